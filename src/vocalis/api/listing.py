"""Search and pagination shared by the listing endpoints."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import AfterValidator
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vocalis.api.body import check_text
from vocalis.api.schemas import Pagination

R = TypeVar("R")


def _storable(value: str | None) -> str | None:
    return check_text(value, "search") if value is not None else None


# A search query parameter: bounded, and nothing a database cannot compare (NUL, surrogates).
SearchTerm = Annotated[str | None, Query(max_length=200), AfterValidator(_storable)]


def contains_any(term: str, *columns: Any) -> ColumnElement[bool]:
    """Case-insensitive substring match on any column; LIKE wildcards in `term` are literal."""
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term.strip()) + "%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


async def paginate(
    session: AsyncSession, query: Select[R], *, page: int, per_page: int
) -> tuple[list[R], Pagination]:
    """One page of `query` (already filtered and ordered) and the pagination that describes it."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(query.limit(per_page).offset((page - 1) * per_page))
    total = total or 0
    pages = -(-total // per_page)
    return list(rows), Pagination(page=page, per_page=per_page, total=total, pages=pages)
