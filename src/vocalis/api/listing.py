"""Search and pagination shared by the listing endpoints."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, or_


def contains_any(term: str, *columns: Any) -> ColumnElement[bool]:
    """Case-insensitive substring match on any column; LIKE wildcards in `term` are literal."""
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term.strip()) + "%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def pagination(page: int, per_page: int, total: int) -> dict[str, int]:
    return {"page": page, "per_page": per_page, "total": total, "pages": -(-total // per_page)}
