"""The `vocalis` command: serve, worker, migrate, user, say. Thin: parse, build settings, call."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import Any

from vocalis.worker.engines import ENGINES  # the registry only: no engine is imported


def _settings(args: argparse.Namespace, **fields: Any) -> Any:
    from vocalis.api.config import Settings

    given = {k: v for k, v in fields.items() if v is not None}
    if getattr(args, "data_dir", None) is not None:
        given["data_dir"] = Path(args.data_dir)
    return Settings(**given)


def cmd_serve(args: argparse.Namespace) -> int:
    from vocalis.engine_choice import EngineUnavailable
    from vocalis.serve import CannotServe, serve

    try:
        return serve(_settings(args, host=args.host, port=args.port, engine=args.engine))
    except (CannotServe, EngineUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def cmd_worker(args: argparse.Namespace) -> int:
    from vocalis.worker.config import WorkerSettings
    from vocalis.worker.server import run

    given = {"host": args.host, "port": args.port, "engine": args.engine}
    run(WorkerSettings(**{k: v for k, v in given.items() if v is not None}))
    return 0


def cmd_models_pull(args: argparse.Namespace) -> int:
    from vocalis.engine_choice import models_dir
    from vocalis.models import pull

    settings = _settings(args)
    try:
        pull(args.name, models_dir(settings.data_dir))
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"done: `vocalis serve --engine {args.name}` will use them")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from vocalis.api.migrate import upgrade_url

    settings = _settings(args)
    asyncio.run(upgrade_url(settings.resolved_database_url))
    print("database is at the latest schema")
    return 0


def _with_database(settings: Any, work: Any) -> Any:
    """Run `work(db)` on the configured database (the embedded one migrated, PostgreSQL
    required to be current)."""
    from vocalis.api.db import create_database
    from vocalis.api.migrate import require_current, upgrade

    async def run() -> Any:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = create_database(settings.resolved_database_url)
        try:
            await (upgrade(db) if db.is_sqlite else require_current(db))
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def cmd_key_create(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from vocalis.api.api_keys import create_key
    from vocalis.api.errors import AppError
    from vocalis.api.migrate import SchemaNotCurrent
    from vocalis.api.models import User, utcnow

    async def create(db: Any) -> str:
        async with db.autocommit() as conn:
            user_id = await conn.scalar(select(User.id).where(User.email == args.email.lower()))
        if user_id is None:
            raise LookupError(f"no user with the email {args.email}")
        _row, key = await create_key(db, user_id, args.name, utcnow())
        return str(key)

    try:
        key = _with_database(_settings(args), create)
    except (AppError, SchemaNotCurrent, LookupError) as exc:
        print(f"error: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return 1
    print(key)
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from vocalis.api.accounts import create_user
    from vocalis.api.db import create_database
    from vocalis.api.errors import AppError
    from vocalis.api.migrate import SchemaNotCurrent, require_current, upgrade

    password = args.password or getpass.getpass("Password (min 8 characters): ")
    settings = _settings(args)

    async def create() -> tuple[str, str]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = create_database(settings.resolved_database_url)
        try:
            await (upgrade(db) if db.is_sqlite else require_current(db))
            async with db.sessions() as session:
                user = await create_user(
                    session, args.email, password, settings.password_min_length
                )
                return user.id, user.email
        finally:
            await db.dispose()

    try:
        user_id, email = asyncio.run(create())
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    except SchemaNotCurrent as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created user {email} ({user_id})")
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    import tempfile

    from vocalis.say import say, studio_voice

    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(args.reference) if args.reference else None
        transcript, language = args.transcript, args.language
        if args.voice:
            if not args.email:
                print("error: --voice needs --email (whose voice)", file=sys.stderr)
                return 1
            settings = _settings(args)
            try:
                voice = _with_database(
                    settings,
                    lambda db: studio_voice(db, settings, args.email, args.voice, Path(tmp)),
                )
            except LookupError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            reference, transcript = voice.reference, voice.transcript
            language = voice.language if language == "Auto" else language
        say(
            text=args.text,
            out=Path(args.out),
            reference=reference,
            transcript=transcript,
            instruct=args.instruct,
            language=language,
            engine_name=args.engine,
        )
    print(f"wrote {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vocalis",
        description="Vocalis: a self-hostable voice-cloning studio and API. "
        "Start with `vocalis serve` and open the printed URL.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve",
        help="run the API and web app (embedded: SQLite, local files, a local worker)",
        description="Run the API server and web app. With no VOCALIS_WORKER_URL it also starts "
        "and supervises a local worker with the offline `local` engine. The embedded SQLite "
        "database is migrated automatically; PostgreSQL must be at the latest schema "
        "(`vocalis migrate`). A crashed API process or worker is restarted.",
    )
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.add_argument("--data-dir", default=None, help="data directory (default ./vocalis-data)")
    serve.add_argument(
        "--engine",
        default=None,
        choices=[*ENGINES, "auto"],
        help="engine of the embedded worker (default: VOCALIS_ENGINE, else local); auto picks "
        "qwen when a CUDA GPU, the qwen extra and its pulled weights are all present",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser(
        "worker",
        help="run a synthesis worker speaking the job protocol",
        description="Serve job protocol v1 (POST /v1/jobs …) with a TTS engine. The bearer "
        "token comes from VOCALIS_WORKER_TOKEN.",
    )
    worker.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    worker.add_argument("--port", type=int, default=None, help="port (default 8001)")
    worker.add_argument("--engine", choices=list(ENGINES), default=None, help="TTS engine")
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser(
        "migrate",
        help="bring the database (VOCALIS_DATABASE_URL) to the latest schema",
        description="Apply Alembic migrations to VOCALIS_DATABASE_URL (PostgreSQL), or to the "
        "embedded SQLite database in the data dir.",
    )
    migrate.add_argument("--data-dir", default=None, help="data directory (default ./vocalis-data)")
    migrate.set_defaults(func=cmd_migrate)

    user = sub.add_parser("user", help="manage users", description="Manage user accounts.")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser(
        "create",
        help="add a user (asks for the password if not given)",
        description="Create a user who can then sign in with this email and password.",
    )
    create.add_argument("email")
    create.add_argument("--password", default=None, help="at least 8 characters")
    create.add_argument("--data-dir", default=None, help="data directory (default ./vocalis-data)")
    create.set_defaults(func=cmd_user_create)

    models = sub.add_parser(
        "models",
        help="fetch model weights into the data dir (the only command that downloads)",
        description="Manage downloadable model weights. Everything else works offline.",
    )
    models_sub = models.add_subparsers(dest="models_command", required=True)
    pull = models_sub.add_parser("pull", help="download a model's weights once, with progress")
    pull.add_argument("name", choices=["qwen"])
    pull.add_argument("--data-dir", default=None, help="data directory (default ./vocalis-data)")
    pull.set_defaults(func=cmd_models_pull)

    keys = sub.add_parser("key", help="manage API keys", description="Manage API keys.")
    keys_sub = keys.add_subparsers(dest="key_command", required=True)
    key_create = keys_sub.add_parser(
        "create",
        help="print a new API key for a user (vk_…, shown once)",
        description="Create an API key for the user with this email and print it. Programs send "
        "it as `Authorization: Bearer vk_…` on /api and /v1.",
    )
    key_create.add_argument("--email", required=True)
    key_create.add_argument("--name", default="cli", help="what the key is for")
    key_create.add_argument(
        "--data-dir", default=None, help="data directory (default ./vocalis-data)"
    )
    key_create.set_defaults(func=cmd_key_create)

    say = sub.add_parser(
        "say",
        help="synthesize one text to a WAV file with a local engine, no server",
        description="Synthesize text to a WAV file directly with an engine: clone a reference "
        "(--reference and --transcript) or design from a description (--instruct).",
    )
    say.add_argument("text")
    say.add_argument("-o", "--out", default="out.wav")
    say.add_argument("--voice", help="a studio voice's name or id (with --email)")
    say.add_argument("--email", help="the user whose voice --voice names")
    say.add_argument("--data-dir", default=None, help="data directory (default ./vocalis-data)")
    say.add_argument("--reference", help="reference recording to clone")
    say.add_argument("--transcript", help="the words spoken in the reference")
    say.add_argument("--instruct", help="voice description (design) when no reference is given")
    say.add_argument("--language", default="Auto")
    say.add_argument("--engine", default="local", choices=list(ENGINES))
    say.set_defaults(func=cmd_say)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
