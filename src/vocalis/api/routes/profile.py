"""Who is signed in (`/api/me`, soft auth) and their editable profile."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vocalis.api.accounts import ensure_profile, update_profile
from vocalis.api.body import read_model
from vocalis.api.deps import CurrentUser, OptionalUser, SessionDep
from vocalis.api.openapi import errors, json_body
from vocalis.api.profile_schemas import MeOut, MeUser, ProfileEnvelope, ProfileOut, ProfileUpdate

router = APIRouter(prefix="/api", tags=["profile"])


@router.get("/me")
async def me(user: OptionalUser, session: SessionDep) -> MeOut:
    """The signed-in user and profile; signed_in false (not 401) without a valid token."""
    if user is None:
        return MeOut(signed_in=False, user=None, profile=None)
    profile = await ensure_profile(session, user.id, user.email)
    return MeOut(
        signed_in=True,
        user=MeUser(id=user.id, email=user.email),
        profile=ProfileOut.model_validate(profile),
    )


@router.patch("/profile", responses=errors(400, 401, 409), openapi_extra=json_body(ProfileUpdate))
async def patch_profile(
    request: Request, user: CurrentUser, session: SessionDep
) -> ProfileEnvelope:
    """Change any of handle, display_name and avatar_url (null clears one)."""
    changes = await read_model(request, ProfileUpdate)
    profile = await update_profile(session, user.id, user.email, changes)
    return ProfileEnvelope(profile=ProfileOut.model_validate(profile))
