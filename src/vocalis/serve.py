"""`vocalis serve`: the API server, plus a supervised local worker when none is configured."""

from __future__ import annotations

import logging

from vocalis.api.config import Settings

log = logging.getLogger("vocalis")


def serve(settings: Settings) -> int:
    import uvicorn

    from vocalis.api.app import create_app

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    print(
        f"Vocalis is running at http://{settings.host}:{settings.port}/ "
        f"(data in {settings.data_dir.resolve()})",
        flush=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
    return 0
