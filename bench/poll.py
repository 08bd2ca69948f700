"""Polls per second and latency of `GET /api/tasks/{id}` on running tasks, next to `/api/health`.

Real processes on loopback: a worker (`vocalis worker`, one synthesis slot), the API server
(`vocalis.asgi:create` under uvicorn or granian) and a load generator (wrk with a Lua script,
or an in-process aiohttp client when wrk is missing or `--loadgen aiohttp` is given).

Tasks stay running for the whole run without the worker burning a core: the worker's only
synthesis slot (a spawned child of the worker process) gets SIGSTOP before any job is submitted,
so the first job is `running` forever and the rest stay `queued`; each poll is the real hot path
(JWT check, one UPDATE … RETURNING that counts the poll, one worker status call over HTTP).
The slot gets SIGCONT before the worker is stopped. Several users each clone a voice and start
`--tasks-per-user` generations (the per-user cap is 4 by default); the load generator rotates
over all task URLs, each with its owner's Bearer token.

The reconciler is switched off (VOCALIS_RECONCILE_INTERVAL_SECONDS=0) so every counted poll is
one the load generator sent: the script checks that the polls counted in the database match
the requests answered. (In production it adds at most 50 polls per interval per replica.)

Per database (PostgreSQL, SQLite) and connection count it measures, each after a warm-up:
requests/s, p50 and p99 latency, errors (non-2xx answers + socket errors and timeouts), and
CPU milliseconds per request of the API, the worker, the PostgreSQL backends and the load
generator, plus how busy the whole machine was (other work on it counts too).

Target (PostgreSQL, 50 connections, tasks endpoint): >= 1000 polls/s, p99 <= 100 ms, no errors.
Exits 1 when it is missed or when the counted polls do not match the answered ones.

    apt-get install wrk
    python -m bench.poll [--databases postgres,sqlite] [--connections 50,200] [--seconds 10]
                         [--server granian|uvicorn] [--api-workers N]
                         [--postgres-url postgresql://postgres:postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench import stack

TARGET_RPS, TARGET_P99_MS, TARGET_CONNECTIONS = 1000.0, 100.0, 50
DEFAULT_POSTGRES = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "vocalis_bench_poll"
TASKS = "GET /api/tasks/{id}"
HEALTH = "GET /api/health"

Target = tuple[str, str | None]  # path, Authorization header


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class Row:
    database: str
    connections: int
    endpoint: str
    load: Load
    cpu_ms: dict[str, float]  # CPU ms per request by component
    busy: float  # the whole machine's busy share during the run, 0-1 of all cores
    load1: float


# ---- load generators ---------------------------------------------------------------------

_WRK_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %.0f, "duration_us": %.0f, "p50_us": %.1f, "p99_us": %.1f, '
    .. '"connect": %.0f, "read": %.0f, "write": %.0f, "status": %.0f, "timeout": %.0f}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _wrk_script(targets: Sequence[Target]) -> str:
    rows = ",\n".join(
        f"  {{{json.dumps(path)}, {json.dumps(auth) if auth else 'nil'}}}" for path, auth in targets
    )
    # Each wrk thread has its own Lua state: setup() (run in the main state) hands each a
    # different starting offset, so the threads do not poll the same task in lockstep.
    return f"""
local targets = {{
{rows}
}}
local threads = 0
function setup(thread)
  thread:set("offset", threads * 7)
  threads = threads + 1
end
local i = 0
function init(args)
  i = (offset or 0) % #targets
end
function request()
  i = i % #targets + 1
  local t = targets[i]
  if t[2] then return wrk.format("GET", t[1], {{Authorization = t[2]}}) end
  return wrk.format("GET", t[1], {{}})
end
{_WRK_DONE}"""


def wrk(
    base_url: str, targets: Sequence[Target], connections: int, seconds: float, run_dir: Path
) -> tuple[Load, float]:
    """One wrk run; returns the figures and wrk's own CPU seconds."""
    script = run_dir / "targets.lua"
    script.write_text(_wrk_script(targets))
    threads = 2 if connections >= 100 else 1
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [*command, "-s", str(script), base_url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    r = json.loads(line.removeprefix("WRK_RESULT "))
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    load = Load(r["requests"], r["duration_us"] / 1e6, r["p50_us"] / 1e3, r["p99_us"] / 1e3, errors)
    return load, cpu


def aiohttp_load(
    base_url: str, targets: Sequence[Target], connections: int, seconds: float, _run_dir: Path
) -> tuple[Load, float]:
    """The fallback: `connections` keep-alive clients in this process (costs more CPU than wrk,
    and that CPU is taken from the server under test)."""
    import aiohttp

    async def run() -> Load:
        latencies: list[float] = []
        errors = 0
        connector = aiohttp.TCPConnector(limit=connections)
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as s:
            stop = time.perf_counter() + seconds

            async def client(offset: int) -> None:
                nonlocal errors
                i = offset
                while (sent := time.perf_counter()) < stop:
                    path, auth = targets[i % len(targets)]
                    i += 1
                    headers = {"Authorization": auth} if auth else {}
                    try:
                        async with s.get(path, headers=headers) as response:
                            await response.read()
                            errors += response.status >= 400
                    except (aiohttp.ClientError, TimeoutError, OSError):
                        errors += 1
                    latencies.append(time.perf_counter() - sent)

            started = time.perf_counter()
            await asyncio.gather(*(client(k) for k in range(connections)))
            elapsed = time.perf_counter() - started
        latencies.sort()

        def pct(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3

        return Load(len(latencies), elapsed, pct(0.50), pct(0.99), errors)

    before = time.process_time()
    load = asyncio.run(run())
    return load, time.process_time() - before


# ---- setup -------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate_postgres(admin_url: str, name: str, *, drop_only: bool = False) -> str:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not drop_only:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(run())
    return _with_database(admin_url, name)


@contextmanager
def stopped(pids: Sequence[int]) -> Iterator[None]:
    """SIGSTOP these processes for the block; SIGCONT them afterwards whatever happens."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


def running_tasks(
    base_url: str, users: int, per_user: int, run_dir: Path
) -> list[tuple[str, dict[str, str]]]:
    """Sign up `users` users, clone a voice each and start `per_user` generations each."""
    wav = stack.reference_wav(run_dir / "reference.wav")
    tasks = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for u in range(users):
            headers = stack.sign_up(client, f"poll{u}@bench.example")
            voice = stack.clone_voice(client, headers, wav)
            tasks += [(stack.generate(client, headers, voice), headers) for _ in range(per_user)]
    return tasks


def check_tasks(base_url: str, tasks: Sequence[tuple[str, dict[str, str]]]) -> tuple[int, str]:
    """Poll each task once more; all must still be processing. Returns the summed poll count
    (this last poll included) and a one-line summary."""
    states: dict[str, int] = {}
    counted = 0
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for task_id, headers in tasks:
            body = client.get(f"/api/tasks/{task_id}", headers=headers).json()
            if body.get("status") != "processing":
                raise RuntimeError(f"task {task_id} is no longer running: {body}")
            states[body["modal_status"]] = states.get(body["modal_status"], 0) + 1
            counted += body["modal_poll_count"]
    summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    return counted, f"{len(tasks)} tasks still processing ({summary})"


# ---- measuring ---------------------------------------------------------------------------


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def measure(
    generator: str,
    base_url: str,
    targets: Sequence[Target],
    connections: int,
    seconds: float,
    run_dir: Path,
    processes: Callable[[], dict[str, list[int]]],
) -> tuple[Load, Load, dict[str, float], float, float]:
    """A warm-up run (pools, caches), then the measured one: (warm-up, measured, CPU ms per
    request by component, the machine's busy share, the 1-minute load average)."""
    run = wrk if generator == "wrk" else aiohttp_load
    warm, _ = run(base_url, targets, connections, min(3.0, seconds), run_dir)
    components = processes()  # after the warm-up: pools open connections under load
    cpu_before = {name: stack.cpu_seconds(pids) for name, pids in components.items()}
    busy_before, total_before = _machine_ticks()
    load, generator_cpu = run(base_url, targets, connections, seconds, run_dir)
    busy_after, total_after = _machine_ticks()
    load1 = os.getloadavg()[0]
    cpu = {name: stack.cpu_seconds(pids) - cpu_before[name] for name, pids in components.items()}
    cpu["loadgen"] = generator_cpu
    per_request = {name: 1e3 * s / max(load.requests, 1) for name, s in cpu.items()}
    busy = (busy_after - busy_before) / max(total_after - total_before, 1)
    return warm, load, per_request, busy, load1


def bench_database(database: str, args: argparse.Namespace) -> tuple[list[Row], str, bool]:
    """The rows for one database, a line on the tasks afterwards, and whether the polls the
    database counted match the polls answered."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"vocalis-bench-poll-{database}-"))
    try:
        if database == "postgres":
            database_url = recreate_postgres(args.postgres_url, BENCH_DATABASE)
        else:
            database_url = f"sqlite:///{run_dir / 'data' / 'vocalis.db'}"
        worker = stack.start_worker(run_dir, concurrency=1)
        with stack.running(worker.process):
            slots = worker.slot_pids()
            if len(slots) != 1:
                raise RuntimeError(f"expected one synthesis slot process, found {slots}")
            env = stack.api_env(
                run_dir,
                database_url,
                worker,
                VOCALIS_RECONCILE_INTERVAL_SECONDS="0",
                VOCALIS_MAX_ACTIVE_TASKS=str(args.tasks_per_user),
                # 0: every poll makes its status check (the hot path). With coalescing on (the
                # product's default, 4), polls of one task past that rate are answered from the
                # database without a worker call: `--poll-rate 4` measures those.
                VOCALIS_POLL_RATE_PER_SECOND=str(args.poll_rate),
            )
            stack.migrate(env, run_dir)
            api, base_url = stack.start_api(
                run_dir, env, server=args.server, workers=args.api_workers
            )
            with stack.running(api), stopped(slots):
                tasks = running_tasks(base_url, args.users, args.tasks_per_user, run_dir)
                polls = [(f"/api/tasks/{t}", h["Authorization"]) for t, h in tasks]

                def processes() -> dict[str, list[int]]:
                    found = {"api": api.tree(), "worker": [worker.process.pid]}
                    if database == "postgres":  # the backends serving the API's connections
                        found["db"] = stack.pids_matching(f" {BENCH_DATABASE} ")
                    return found

                rows, answered, in_flight = [], 0, 0
                for connections in args.connections:
                    for endpoint, targets in ((TASKS, polls), (HEALTH, [("/api/health", None)])):
                        warm, load, cpu, busy, load1 = measure(
                            args.loadgen, base_url, targets, connections, args.seconds, run_dir,
                            processes,
                        )  # fmt: skip
                        rows.append(Row(database, connections, endpoint, load, cpu, busy, load1))
                        if endpoint == TASKS:
                            answered += warm.requests + load.requests
                            in_flight += 2 * connections
                counted, summary = check_tasks(base_url, tasks)
                counted -= len(tasks)  # check_tasks' own polls
                # A request in flight when a run stops is counted but never answered. Coalesced
                # polls are answered without a check, so then only the upper bound holds.
                low = answered if args.poll_rate == 0 else 0
                consistent = low <= counted <= answered + in_flight
                note = (
                    f"{database}: {summary}; polls counted in the database {counted}, answered "
                    f"to the load generator {answered} (+ at most {in_flight} in flight): "
                    + ("consistent" if consistent else "MISMATCH")
                )
        return rows, note, consistent
    finally:
        if database == "postgres":
            recreate_postgres(args.postgres_url, BENCH_DATABASE, drop_only=True)
        shutil.rmtree(run_dir, ignore_errors=True)


def print_table(rows: Sequence[Row]) -> None:
    head = (
        f"{'database':<9} {'conns':>5}  {'endpoint':<20} {'req/s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'errors':>6}  {'CPU ms/req: api':>15} {'worker':>6} {'db':>5} "
        f"{'loadgen':>7}  {'busy':>5} {'load1':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        c = r.cpu_ms
        db = f"{c['db']:.2f}" if "db" in c else "-"
        print(
            f"{r.database:<9} {r.connections:>5}  {r.endpoint:<20} {r.load.rps:>7.0f} "
            f"{r.load.p50_ms:>7.1f} {r.load.p99_ms:>7.1f} {r.load.errors:>6}  "
            f"{c['api']:>15.2f} {c['worker']:>6.2f} {db:>5} {c['loadgen']:>7.2f}  "
            f"{r.busy:>5.0%} {r.load1:>5.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="postgres,sqlite")
    parser.add_argument("--connections", default="50,200")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measured run")
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian")
    parser.add_argument("--api-workers", type=int, default=1, help="API server processes")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument(
        "--poll-rate", type=float, default=0, help="status checks per second per task; 0: all"
    )
    parser.add_argument("--tasks-per-user", type=int, default=4)
    parser.add_argument("--loadgen", choices=["wrk", "aiohttp"], default=None)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("VOCALIS_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help=f"an admin connection; the bench creates and drops {BENCH_DATABASE}",
    )
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    args.connections = [int(c) for c in args.connections.split(",")]
    args.loadgen = args.loadgen or ("wrk" if shutil.which("wrk") else "aiohttp")

    print(
        f"server {args.server} x{args.api_workers}, load generator {args.loadgen}, "
        f"{args.users} users x {args.tasks_per_user} running tasks, {args.seconds:g} s per run, "
        f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows: list[Row] = []
    notes: list[str] = []
    consistent = True
    for database in args.databases:
        got, note, counts_match = bench_database(database, args)
        rows += got
        notes.append(note)
        consistent &= counts_match
    print()
    print_table(rows)
    for note in notes:
        print(note)
    target = [
        r
        for r in rows
        if r.database == "postgres" and r.connections == TARGET_CONNECTIONS and r.endpoint == TASKS
    ]
    met = all(
        r.load.rps >= TARGET_RPS and r.load.p99_ms <= TARGET_P99_MS and r.load.errors == 0
        for r in target
    )
    if target:
        print(
            f"target (PostgreSQL, {TARGET_CONNECTIONS} connections, {TASKS}): "
            f">= {TARGET_RPS:.0f}/s, p99 <= {TARGET_P99_MS:.0f} ms, 0 errors: "
            + ("met" if met else "MISSED")
        )
    return 0 if met and consistent else 1


if __name__ == "__main__":
    sys.exit(main())
