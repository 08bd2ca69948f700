"""Tasks: the job feed, the poll that advances a task, cancel, delete, preview audio."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse

from vocalis.api.deps import CurrentUser, SettingsDep, StorageDep, TasksDep, parse_id
from vocalis.api.errors import NotFound
from vocalis.api.models import TaskStatus
from vocalis.api.openapi import errors
from vocalis.api.schemas import ModelResponse, OkOut, TaskCancelled, TaskFeed, TaskOut
from vocalis.api.tasks import store
from vocalis.api.tasks.feed import task_page
from vocalis.api.tasks.results import result_key

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get("", responses=errors(400, 401))
async def feed(
    user: CurrentUser,
    tasks: TasksDep,
    status: Literal["active", "terminal", "all"] = "all",
    type: Literal["generate", "design_preview", "transcribe"] | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    before: Annotated[str | None, Query(max_length=100)] = None,
) -> TaskFeed:
    """The job feed: the user's tasks, newest first, paged by the `before` cursor."""
    rows, next_before = await task_page(
        tasks.db, user.id, status=status, type_=type, limit=limit, before=before
    )
    return TaskFeed(tasks=[TaskOut.of(r) for r in rows], next_before=next_before)


@router.get("/{task_id}", response_model=TaskOut, responses=errors(401, 404))
async def poll(task_id: str, user: CurrentUser, tasks: TasksDep) -> ModelResponse:
    """Poll a task: one job-status check that advances it (and stores the audio when done)."""
    return ModelResponse(TaskOut.of(await tasks.poll(parse_id(task_id), user.id)))


@router.post("/{task_id}/cancel", responses=errors(400, 401, 404))
async def cancel(task_id: str, user: CurrentUser, tasks: TasksDep) -> TaskCancelled:
    """Cancel a pending or processing task."""
    task_id = parse_id(task_id)
    await tasks.cancel(task_id, user.id)
    return TaskCancelled(task_id=task_id)


@router.delete("/{task_id}", responses=errors(401, 404))
async def delete(task_id: str, user: CurrentUser, tasks: TasksDep) -> OkOut:
    """Delete a task (cancelling it first if it is still running)."""
    await tasks.delete(parse_id(task_id), user.id)
    return OkOut()


@router.get(
    "/{task_id}/audio",
    status_code=302,
    response_class=RedirectResponse,
    responses=errors(401, 404),
)
async def audio(
    task_id: str, user: CurrentUser, tasks: TasksDep, storage: StorageDep, settings: SettingsDep
) -> RedirectResponse:
    """Redirect to the audio a completed task produced (design previews)."""
    task = await store.load(tasks.db, parse_id(task_id), user.id)
    if task.status is not TaskStatus.COMPLETED or not task.result:
        raise NotFound("Task audio not available.")
    url = await storage.signed_url(result_key(task), expires_in=settings.signed_url_seconds)
    return RedirectResponse(url, status_code=302)
