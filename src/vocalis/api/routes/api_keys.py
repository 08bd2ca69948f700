"""API keys for programs: create (shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vocalis.api.api_keys import create_key, list_keys, revoke_key
from vocalis.api.body import read_model
from vocalis.api.deps import AuthenticatorDep, ClockDep, DatabaseDep, SessionUser, parse_id
from vocalis.api.openapi import errors, json_body
from vocalis.api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyOut, OkOut

router = APIRouter(prefix="/api/api-keys", tags=["api keys"])


@router.post(
    "", status_code=201, responses=errors(400, 401, 403, 409), openapi_extra=json_body(ApiKeyCreate)
)
async def create(
    request: Request, user: SessionUser, db: DatabaseDep, clock: ClockDep
) -> ApiKeyCreated:
    """Create a key (`vk_…`, accepted as a Bearer token on /api and /v1); it is shown once."""
    body = await read_model(request, ApiKeyCreate)
    row, key = await create_key(db, user.id, body.name, clock())
    return ApiKeyCreated(
        id=row.id, name=row.name, key=key, prefix=row.prefix, created_at=row.created_at
    )


@router.get("", responses=errors(401, 403))
async def keys(user: SessionUser, db: DatabaseDep) -> ApiKeyList:
    """The user's keys (never the keys themselves: their prefixes)."""
    rows = await list_keys(db, user.id)
    return ApiKeyList(api_keys=[ApiKeyOut.model_validate(r, from_attributes=True) for r in rows])


@router.delete("/{key_id}", responses=errors(401, 403, 404))
async def revoke(
    key_id: str, user: SessionUser, db: DatabaseDep, authenticator: AuthenticatorDep
) -> OkOut:
    """Revoke a key: refused at once here, and by every replica within seconds."""
    authenticator.forget_key(await revoke_key(db, user.id, parse_id(key_id)))
    return OkOut()
