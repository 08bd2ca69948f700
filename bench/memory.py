"""Peak memory of the API process when a voice is cloned from a ~50 MB reference and used.

Real processes on loopback: a worker (`vocalis worker`, one synthesis slot) and the API server
(`vocalis.asgi:create` under uvicorn or granian). The script signs up, then warms the API up
with a 2-second reference (clone, generate, poll to completion), so that what gets loaded on
first use (numpy and PyAV for decoding, pools, caches) is in the baseline. The user comes with
an access token minted with the API's secret rather than a sign-up: Argon2 takes 64 MiB while
it hashes a password, which would set the peak and hide everything measured after it.

It reads the API process's peak resident set size (VmHWM in /proc/PID/status), then clones
a voice from a 280-second 44.1 kHz stereo WAV (49.4 MB, made at run time in a temporary
folder; the clone normalizes it to 24 kHz mono, 13.4 MB), generates with that voice (the job
submission sends the stored reference to the worker: inline as streamed base64 by default, or
by signed URL with `--transfer url`), polls the task to completion (the result is downloaded
and stored), and reads the peak again.

Target: the peak rises by less than 30 MB. Exits 1 when missed.

    python -m bench.memory [--server granian|uvicorn] [--transfer inline|url]
                           [--database-url postgresql://…] [--timeout 600]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench import stack

TARGET_MB = 30.0
BIG_SECONDS, BIG_RATE, BIG_CHANNELS = 280.0, 44100, 2


def app_pid(api: stack.Process) -> int:
    """The process running the app: the server itself (uvicorn, one worker) or granian's
    worker, whichever of the tree is largest."""
    return max(api.tree(), key=stack.rss_mb)


def generate_and_wait(
    client: httpx.Client, headers: dict[str, str], voice_id: str, timeout: float
) -> dict[str, object]:
    task_id = stack.generate(client, headers, voice_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = client.get(f"/api/tasks/{task_id}", headers=headers).json()
        if task["status"] in ("completed", "failed", "cancelled"):
            return dict(task)
        time.sleep(0.5)
    raise RuntimeError(f"task {task_id} did not finish within {timeout:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian")
    parser.add_argument("--transfer", choices=["inline", "url"], default="inline")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--timeout", type=float, default=600.0, help="per generation, seconds")
    args = parser.parse_args(argv)

    run_dir = Path(tempfile.mkdtemp(prefix="vocalis-bench-memory-"))
    try:
        small = stack.reference_wav(run_dir / "small.wav")
        big = stack.reference_wav(
            run_dir / "big.wav", seconds=BIG_SECONDS, rate=BIG_RATE, channels=BIG_CHANNELS
        )
        big_mb = big.stat().st_size / 1e6
        worker = stack.start_worker(run_dir, concurrency=1)
        with stack.running(worker.process):
            database_url = args.database_url or f"sqlite:///{run_dir / 'data' / 'vocalis.db'}"
            extra = {"VOCALIS_REFERENCE_TRANSFER": "inline"}
            if args.transfer == "url":  # signed URLs to this API's media route
                port = stack.free_port()
                extra = {"VOCALIS_PUBLIC_URL": f"http://127.0.0.1:{port}"}
            env = stack.api_env(run_dir, database_url, worker, **extra)
            stack.migrate(env, run_dir)
            if args.transfer == "url":
                api, base_url = stack.start_api(run_dir, env, server=args.server, port=port)
            else:
                api, base_url = stack.start_api(run_dir, env, server=args.server)
            with stack.running(api), httpx.Client(base_url=base_url, timeout=300) as client:
                headers = stack.minted_token(env, "memory@bench.example")
                pid = app_pid(api)
                started = stack.peak_rss_mb(pid)
                warm = stack.clone_voice(client, headers, small)
                done = generate_and_wait(client, headers, warm, args.timeout)
                if done["status"] != "completed":
                    raise RuntimeError(f"the warm-up generation did not complete: {done}")
                before = stack.peak_rss_mb(pid)

                began = time.monotonic()
                voice = stack.clone_voice(client, headers, big)
                cloned = stack.peak_rss_mb(pid)
                clone_seconds = time.monotonic() - began
                began = time.monotonic()
                done = generate_and_wait(client, headers, voice, args.timeout)
                generate_seconds = time.monotonic() - began
                after = stack.peak_rss_mb(pid)
                rss_now = stack.rss_mb(pid)
                voices = client.get("/api/voices", headers=headers).json()["voices"]
                seconds = next(v["duration_seconds"] for v in voices if v["id"] == voice)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)

    rise = after - before
    print(f"API server: {args.server} (pid {pid}); reference transfer: {args.transfer}")
    print(
        f"reference: {big_mb:.1f} MB WAV ({BIG_SECONDS:g} s, {BIG_RATE} Hz, {BIG_CHANNELS} "
        f"channels); the voice's stored reference: {seconds:.1f} s"
    )
    print(f"peak RSS after startup:               {started:7.1f} MiB")
    print(f"peak RSS after the 2 s warm-up:       {before:7.1f} MiB   (baseline)")
    print(
        f"peak RSS after the clone:             {cloned:7.1f} MiB   "
        f"(+{cloned - before:.1f}, {clone_seconds:.1f} s)"
    )
    print(
        f"peak RSS after generating with it:    {after:7.1f} MiB   "
        f"(+{rise:.1f}, {generate_seconds:.1f} s, task {done['status']})"
    )
    print(f"RSS now:                              {rss_now:7.1f} MiB")
    met = rise < TARGET_MB and done["status"] == "completed"
    print(
        f"target: peak rises by < {TARGET_MB:.0f} MB with a {big_mb:.0f} MB reference: "
        + ("met" if met else "MISSED")
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
