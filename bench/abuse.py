"""Faults and abuse against a real `vocalis serve`: how long the service takes to recover.

Independent sections, chosen with --sections (each starts its own serve, with a fresh database):

- kill-api: a generation is running; the API process (granian's worker) gets SIGKILL. Measured
  from the kill: until /api/health answers again, and until the task polls `completed`.
- kill-worker: the same with the local worker process. Measured from the kill: until the
  restarted worker answers on its port, and until the task polls `completed` (the job was lost
  with the worker: it completes only if the API resubmits it).
- brute-force: task poll latency (p50/p99 of 200 polls of a running task) with no attack, then
  while 10 clients keep sending wrong-password sign-ins in parallel. The sign-in limits are
  raised for this section so every attempt is hashed: it measures what hashing costs the
  others, not the limiter (which would refuse most attempts cheaply).
- hanging-worker: serve pointed at a worker that accepts connections and never answers; the time
  for POST /api/generate to answer (503) and for GET /api/languages (first, then cached).

Each kill also reports the CPU time the replacement process (with its children) had used when
it answered: what a restart costs, whatever else the machine is doing.

The client polls the task once a second, as the web app does (--poll-interval), so completion
times are known to that resolution; health and the worker's port are probed every 50 ms. A
first generation with no fault gives the baseline: how long the same text takes undisturbed.
Runs on SQLite, and on PostgreSQL when --postgres-url (an admin connection) is given: the bench
creates, migrates and drops a database `vocalis_bench_abuse` there.

    python -m bench.abuse [--sections kill-api,kill-worker,brute-force,hanging-worker] [--rounds 3]
                          [--postgres-url postgresql://postgres:postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.serve_process import FINISHED, Serve, Studio, answers, serving, status_of, wait_for

from bench import stack
from bench.poll import recreate_postgres

BENCH_DATABASE = "vocalis_bench_abuse"
# About six seconds of synthesis on one core of the development machine.
TEXT = " ".join(["The quick brown fox jumps over the lazy dog near the quiet river."] * 6)
DEADLINE = 300.0


@dataclass(frozen=True)
class Row:
    section: str
    database: str
    round: int
    answers_s: float | None  # until the killed part answers again
    completes_s: float | None  # until the running task polls completed
    outcome: str
    # CPU the replacement process (and its children) had used when it answered: what its
    # start costs whatever the machine's load
    cpu_s: float | None = None


@dataclass(frozen=True)
class Bench:
    database: str
    postgres_url: str | None  # admin connection, for database == "postgres"
    run_dir: Path
    rounds: int
    poll_interval: float

    def fresh_database(self, data_dir: Path) -> str:
        """An empty, migrated database for one serve, so no round sees another's tasks."""
        if self.database == "sqlite":
            return f"sqlite:///{data_dir / 'vocalis.db'}"  # serve's default; it migrates itself
        from vocalis.api.migrate import upgrade_url

        assert self.postgres_url
        url = recreate_postgres(self.postgres_url, BENCH_DATABASE)
        asyncio.run(upgrade_url(url))
        return url


def _since(
    start: float, condition: Callable[[], object], seconds: float = DEADLINE
) -> float | None:
    """Seconds from `start` until `condition` holds (probed every 50 ms), or None."""
    return time.monotonic() - start if wait_for(condition, seconds, interval=0.05) else None


def _health(serve: Serve) -> bool:
    # A long timeout: while no API process accepts, serve's socket holds the request in its
    # backlog, and the new process answers it as soon as it can.
    return status_of(f"{serve.base}/api/health", timeout=DEADLINE) == 200


@contextmanager
def _serving(
    bench: Bench, name: str, env: dict[str, str] | None = None
) -> Iterator[tuple[Serve, Studio]]:
    data = bench.run_dir / name
    data.mkdir()
    database_url = bench.fresh_database(data / "data")
    with serving(data / "data", {"VOCALIS_DATABASE_URL": database_url, **(env or {})}) as serve:
        studio = Studio.sign_up(serve.base, data, email=f"{name}@example.com")
        try:
            yield serve, studio
        finally:
            studio.close()


def _finish(studio: Studio, task_id: str, start: float, bench: Bench) -> tuple[float | None, str]:
    """Poll at the client's rate until the task finishes: seconds from `start`, and how."""
    task = studio.poll_until(task_id, FINISHED, DEADLINE, bench.poll_interval)
    if task.get("status") != "completed":
        return None, f"{task.get('status')}: {task.get('error') or task.get('modal_status')}"
    return time.monotonic() - start, "completed"


def _started(studio: Studio) -> str:
    task_id = studio.generate(TEXT)
    task = studio.poll_until(task_id, ("processing", *FINISHED), DEADLINE, 0.2)
    if task.get("status") != "processing":
        raise RuntimeError(f"the generation did not start running: {task}")
    return task_id


def baseline(bench: Bench) -> list[Row]:
    with _serving(bench, "baseline") as (_, studio):
        start = time.monotonic()
        task_id = studio.generate(TEXT)
        took, outcome = _finish(studio, task_id, start, bench)
    return [Row("no fault", bench.database, 1, None, took, outcome)]


def _kill_round(
    bench: Bench,
    section: str,
    round_: int,
    victim: Callable[[Serve], int | None],
    back: Callable[[Serve, int], bool],
) -> Row:
    """Start a generation, SIGKILL the `victim` process, then time until `back(serve, pid)`
    holds and until the task completes."""
    with _serving(bench, f"{section}-{round_}") as (serve, studio):
        task_id = _started(studio)
        pid = victim(serve)
        if pid is None:
            raise RuntimeError(f"{section}: no such process under serve")
        os.kill(pid, signal.SIGKILL)
        start = time.monotonic()
        answered = _since(start, lambda: back(serve, pid))
        new = victim(serve)
        cpu = stack.cpu_seconds([new, *stack.descendants(new)]) if answered and new else None
        completed, outcome = _finish(studio, task_id, start, bench)
    return Row(section, bench.database, round_, answered, completed, outcome, cpu)


def _api_back(serve: Serve, killed: int) -> bool:
    return serve.api_pid() not in (None, killed) and _health(serve)


def _worker_back(serve: Serve, killed: int) -> bool:
    # any answer on its port, a 401 included, means the restarted worker is up
    return serve.worker_pid() not in (None, killed) and answers(f"{serve.worker_url()}/v1/health")


def kill_api(bench: Bench) -> list[Row]:
    return [
        _kill_round(bench, "kill-api", n, Serve.api_pid, _api_back)
        for n in range(1, bench.rounds + 1)
    ]


def kill_worker(bench: Bench) -> list[Row]:
    return [
        _kill_round(bench, "kill-worker", n, Serve.worker_pid, _worker_back)
        for n in range(1, bench.rounds + 1)
    ]


def _poll_latencies(studio: Studio, task_id: str, count: int = 200) -> list[float]:
    took = []
    for _ in range(count):
        start = time.monotonic()
        studio.task(task_id)
        took.append(time.monotonic() - start)
        time.sleep(0.01)
    return took


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"poll p50 {p50:.0f} ms, p99 {p99:.0f} ms"


def brute_force(bench: Bench) -> list[Row]:
    gate = bench.run_dir / "never-released"
    env = {
        "VOCALIS_ENGINE": "tone",
        "VOCALIS_WORKER_ENGINE_OPTIONS": f'{{"gate_after": 1, "gate_file": "{gate}"}}',
        "VOCALIS_AUTH_RATE_PER_MINUTE": "1000000",
        "VOCALIS_LOGIN_MAX_FAILURES": "1000000",
    }
    with _serving(bench, "brute-force", env) as (serve, studio):
        task_id = _started(studio)
        quiet = _poll_latencies(studio, task_id)
        stop = threading.Event()
        answered: list[int] = []

        def attack(n: int) -> None:
            with httpx.Client(base_url=serve.base, timeout=60) as client:
                while not stop.is_set():
                    response = client.post(
                        "/auth/v1/token?grant_type=password",
                        json={"email": f"victim{n}@example.com", "password": "wrong password"},
                    )
                    answered.append(response.status_code)

        attackers = [threading.Thread(target=attack, args=(n,)) for n in range(10)]
        for thread in attackers:
            thread.start()
        time.sleep(2)  # let the attack reach full strength
        loud = _poll_latencies(studio, task_id)
        stop.set()
        for thread in attackers:
            thread.join()
        statuses = sorted(set(answered))
    return [
        Row("poll quiet", bench.database, 1, None, None, _percentiles(quiet)),
        Row(
            "poll attack",
            bench.database,
            1,
            None,
            None,
            f"{_percentiles(loud)}; {len(answered)} sign-ins answered {statuses}",
        ),
    ]


def hanging_worker(bench: Bench) -> list[Row]:
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(64)  # accepts (the kernel completes handshakes) and never answers
    url = f"http://127.0.0.1:{hanging.getsockname()[1]}"
    try:
        env = {"VOCALIS_WORKER_URL": url, "VOCALIS_WORKER_TOKEN": "x"}
        with _serving(bench, "hanging-worker", env) as (_serve, studio):
            timings = []
            for _ in range(2):
                start = time.monotonic()
                status = studio.http.get("/api/languages").status_code
                timings.append(f"languages {status} in {time.monotonic() - start:.1f} s")
            start = time.monotonic()
            body = {"voice_id": studio.voice_id, "text": "Hello.", "language": "English"}
            answer = studio.http.post("/api/generate", headers=studio.headers, json=body)
            took = time.monotonic() - start
    finally:
        hanging.close()
    outcome = f"generate {answer.status_code} in {took:.1f} s; " + ", ".join(timings)
    return [Row("hanging", bench.database, 1, None, took, outcome)]


SECTIONS: dict[str, Callable[[Bench], list[Row]]] = {
    "kill-api": kill_api,
    "kill-worker": kill_worker,
    "brute-force": brute_force,
    "hanging-worker": hanging_worker,
}


def run_database(database: str, args: argparse.Namespace) -> list[Row]:
    run_dir = Path(tempfile.mkdtemp(prefix=f"vocalis-bench-abuse-{database}-"))
    bench = Bench(database, args.postgres_url, run_dir, args.rounds, args.poll_interval)
    try:
        rows = baseline(bench)
        for name in args.sections:
            rows += SECTIONS[name](bench)
            print(f"  {database}: {name} done", flush=True)
        return rows
    finally:
        if database == "postgres":
            recreate_postgres(args.postgres_url, BENCH_DATABASE, drop_only=True)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def print_table(rows: Sequence[Row]) -> None:
    header = ("section", "database", "round", "answers s", "start cpu s", "completes s")
    print("{:<12} {:<9} {:>5} {:>10} {:>12} {:>12}  outcome".format(*header))
    for r in rows:
        print(
            f"{r.section:<12} {r.database:<9} {r.round:>5} {_seconds(r.answers_s):>10} "
            f"{_seconds(r.cpu_s):>12} {_seconds(r.completes_s):>12}  {r.outcome}"
        )
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        groups.setdefault((r.section, r.database), []).append(r)
    for (section, database), group in groups.items():
        if len(group) < 2:
            continue
        answered = [r.answers_s for r in group if r.answers_s is not None]
        completed = [r.completes_s for r in group if r.completes_s is not None]
        print(
            f"{section} on {database}: median answers {_median(answered)} s, completes "
            f"{_median(completed)} s ({len(completed)}/{len(group)} completed)"
        )


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "—"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=", ".join(SECTIONS))
    parser.add_argument("--databases", default=None, help="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=3, help="kills per section and database")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="client task polls, s")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("VOCALIS_BENCH_POSTGRES_URL"),
        help=f"an admin connection; the bench creates and drops {BENCH_DATABASE} there",
    )
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    if unknown := [s for s in args.sections if s not in SECTIONS]:
        parser.error(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    default = "sqlite,postgres" if args.postgres_url else "sqlite"
    databases = [d.strip() for d in (args.databases or default).split(",") if d.strip()]
    if "postgres" in databases and not args.postgres_url:
        parser.error("postgres needs --postgres-url (or VOCALIS_BENCH_POSTGRES_URL)")

    print(
        f"sections {', '.join(args.sections)}; {args.rounds} round(s); task polls every "
        f"{args.poll_interval:g} s; {os.cpu_count()} cores, load average at start "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows: list[Row] = []
    for database in databases:
        rows += run_database(database, args)
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
