"""`vocalis worker`: serve the job protocol with uvicorn."""

from __future__ import annotations

import ipaddress
import logging

from vocalis.worker.config import WorkerSettings

log = logging.getLogger("vocalis.worker")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(settings: WorkerSettings) -> None:
    """Serve until interrupted. Without VOCALIS_WORKER_TOKEN only a loopback bind is allowed:
    an open worker on a network would run anyone's synthesis."""
    import uvicorn

    from vocalis.worker.app import create_worker_app

    if settings.token is None and not is_loopback(settings.host):
        raise SystemExit(
            f"refusing to serve on {settings.host} without a token: set VOCALIS_WORKER_TOKEN"
        )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_worker_app(settings)
    print(
        f"Vocalis worker ({settings.engine} engine) at http://{settings.host}:{settings.port}/v1",
        flush=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
