"""An ASGI app served over real TCP by uvicorn in a thread, for clients that open their own
connections (supabase-auth, a browser)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from tests.serve_process import wait_for


@contextmanager
def served(app: ASGIApp, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` (lifespan included) on a free port of `host`; yields its base URL."""
    config = uvicorn.Config(app, host=host, port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        # Started, or the thread ended (a failed startup): checked right below either way.
        wait_for(lambda: server.started or not thread.is_alive(), 60, interval=0.05)
        assert server.started, "the server did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join()
