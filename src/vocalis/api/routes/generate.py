"""Starting a generation."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vocalis.api.body import read_json_object
from vocalis.api.deps import CreatingUser, SessionDep, TasksDep
from vocalis.api.generations import parse_generate, start_generation
from vocalis.api.schemas import GenerateStarted

router = APIRouter(prefix="/api", tags=["generate"])


@router.post("/generate")
async def generate(
    request: Request, user: CreatingUser, session: SessionDep, tasks: TasksDep
) -> GenerateStarted:
    """Start speaking `text` in a voice; poll the returned task for the audio."""
    body = parse_generate(await read_json_object(request))
    return await start_generation(session, tasks, user, body)
