"""The real supabase-auth client (supabase-py's GoTrue client) against a running server: its
own calls work, and each GoTrue error surfaces as the client's own exception with GoTrue's code."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from tests.threaded_server import served
from vocalis.api.app import create_app
from vocalis.api.config import Settings

PASSWORD = "correct horse battery"

pytestmark = pytest.mark.slow


@pytest.fixture
def auth_url(settings: Settings) -> Iterator[str]:
    """Where supabase-py points its auth client: `{SUPABASE_URL}/auth/v1`."""
    with served(create_app(settings)) as base:
        yield f"{base}/auth/v1"


def client(url: str) -> SyncGoTrueClient:
    # As supabase-py builds it, minus the timer that would refresh in the background, and with
    # a patient HTTP client: Argon2 takes seconds on a busy machine, past httpx's default 5 s.
    return SyncGoTrueClient(
        url=url,
        auto_refresh_token=False,
        persist_session=True,
        http_client=httpx.Client(timeout=120),
    )


def test_sign_up_sign_in_get_user_refresh_and_sign_out(auth_url: str) -> None:
    auth = client(auth_url)
    signed_up = auth.sign_up({"email": "Ada@Example.com", "password": PASSWORD})
    assert signed_up.user is not None and signed_up.user.email == "ada@example.com"
    assert signed_up.session is not None and auth.get_session() == signed_up.session

    other = client(auth_url)
    signed_in = other.sign_in_with_password({"email": "ada@example.com", "password": PASSWORD})
    assert signed_in.session is not None
    assert signed_in.user is not None and signed_in.user.id == signed_up.user.id

    fetched = other.get_user()
    assert fetched is not None and fetched.user.id == signed_up.user.id
    assert fetched.user.aud == "authenticated" and fetched.user.email_confirmed_at is not None

    first = signed_in.session.refresh_token
    refreshed = other.refresh_session()
    assert refreshed.session is not None and refreshed.session.refresh_token != first
    assert other.get_session() == refreshed.session
    user = other.get_user(refreshed.session.access_token)
    assert user is not None and user.user.id == signed_up.user.id

    other.sign_out()  # global: every session of the user
    assert other.get_session() is None
    for token in (refreshed.session.refresh_token, signed_up.session.refresh_token):
        with pytest.raises(AuthApiError) as revoked:
            client(auth_url).refresh_session(token)
        assert revoked.value.status == 400
        assert revoked.value.code == "refresh_token_already_used"


def test_each_gotrue_error_is_the_clients_own_exception(auth_url: str, settings: Settings) -> None:
    auth = client(auth_url)
    first = auth.sign_up({"email": "ada@example.com", "password": PASSWORD})
    assert first.session is not None

    def api_error(call: object, status: int, code: str) -> AuthApiError:
        with pytest.raises(AuthApiError) as caught:
            call()  # type: ignore[operator]
        assert (caught.value.status, caught.value.code) == (status, code), caught.value.message
        return caught.value

    with pytest.raises(AuthWeakPasswordError) as weak:
        auth.sign_up({"email": "bob@example.com", "password": "short"})
    assert (weak.value.status, weak.value.code) == (422, "weak_password")
    assert weak.value.reasons == ["length"]
    assert weak.value.message == "Password should be at least 8 characters."

    exists = api_error(
        lambda: auth.sign_up({"email": "ADA@example.com", "password": PASSWORD}),
        422,
        "user_already_exists",
    )
    assert exists.message == "User already registered"
    bad = api_error(
        lambda: auth.sign_in_with_password({"email": "ada@example.com", "password": "nope!"}),
        400,
        "invalid_credentials",
    )
    assert bad.message == "Invalid login credentials"
    api_error(
        lambda: auth.sign_up({"email": "not an email", "password": PASSWORD}),
        400,
        "validation_failed",
    )
    api_error(
        lambda: auth.sign_up({"email": "bob@example.com", "password": "x" * 1025}),
        400,
        "validation_failed",
    )
    api_error(lambda: auth.refresh_session("no-such-token"), 400, "refresh_token_not_found")
    client(auth_url).refresh_session(first.session.refresh_token)  # rotated ...
    # ... and presented again at once: a client that lost the answer continues its session ...
    assert auth.refresh_session(first.session.refresh_token).session is not None
    settings.refresh_token_reuse_seconds = 0  # ... but past the reuse interval it is reuse
    api_error(
        lambda: auth.refresh_session(first.session.refresh_token),
        400,
        "refresh_token_already_used",
    )
    api_error(lambda: auth.get_user("not.a.jwt"), 401, "bad_jwt")

    # Too many failed sign-ins lock the email: GoTrue's rate-limit answer.
    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(AuthApiError):
            auth.sign_in_with_password({"email": "ada@example.com", "password": "nope!"})
    locked = api_error(
        lambda: auth.sign_in_with_password({"email": "ada@example.com", "password": PASSWORD}),
        429,
        "over_request_rate_limit",
    )
    assert "Too many failed sign-ins" in locked.message
    # And the per-address rate: the app reads the settings object it was built with.
    settings.auth_rate_per_minute = 0
    api_error(
        lambda: auth.sign_up({"email": "carol@example.com", "password": PASSWORD}),
        429,
        "over_request_rate_limit",
    )
