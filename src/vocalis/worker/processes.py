"""The process executor: each synthesis slot is a long-lived spawned process with its own engine.

Why processes: libespeak-ng keeps global state (one synthesis at a time per process), the CPU
engines scale by cores, and a cancelled job must stop using CPU: the slot checks a shared flag
between chunks and, if it does not stop within a grace period, its process is killed and a
fresh one takes its place. Processes are spawned, never forked, so no lock or thread of the
server leaks into them. Messages are small JSON documents; the audio goes to a WAV file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import signal
from dataclasses import asdict
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from vocalis.lifeline import tie_to_multiprocessing_parent
from vocalis.worker.execution import EngineInfo, Outcome, Work

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")


def _slot_main(
    conn: Connection,
    progress: Any,
    segments: Any,
    cancelled: Any,
    engine_name: str,
    engine_options: dict[str, Any],
) -> None:
    """Entry point of a slot process: load the engine once, then serve one job at a time."""
    # A slot never outlives its worker: a job it computes then is lost, and would only burn CPU.
    tie_to_multiprocessing_parent(signal.SIGKILL)
    # Ctrl-C reaches the whole process group; the server decides when slots stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from vocalis.worker.engines import load_engine
    from vocalis.worker.engines.base import JobCancelled
    from vocalis.worker.execution import synthesize_to_file

    try:
        engine = load_engine(engine_name, **engine_options)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails loudly
        conn.send_bytes(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
        return
    info = EngineInfo.of(engine)
    ready = asdict(info)
    conn.send_bytes(json.dumps({"ready": ready}).encode())

    def report(fraction: float) -> None:
        progress.value = min(max(float(fraction), 0.0), 1.0)
        if cancelled.is_set():
            raise JobCancelled

    def segment_done(count: int, seconds: float) -> None:
        segments[1] = seconds
        segments[0] = float(count)  # last: a reader that sees the count sees its audio too

    while True:
        try:
            message = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return  # the server went away
        if message is None:
            return
        outcome = synthesize_to_file(engine, Work(**message), report, segment_done)
        try:
            conn.send_bytes(json.dumps(asdict(outcome)).encode())
        except OSError:
            return  # the server went away mid-job


async def _receive(conn: Connection) -> Any:
    """The next JSON message from a slot, without blocking the event loop."""
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(conn.fileno(), wake)
    try:
        await readable
    finally:
        loop.remove_reader(conn.fileno())
    try:
        return json.loads(conn.recv_bytes())
    except OSError:  # ECONNRESET: the process died with our last message unread
        raise EOFError from None


class _Slot:
    def __init__(self, engine_name: str, engine_options: dict[str, Any]) -> None:
        self.conn, child_conn = _CONTEXT.Pipe()
        self.progress = _CONTEXT.Value("d", 0.0)
        # (count, seconds of audio). No lock: a slot killed while holding one would hang every
        # status call of the server that reads it; aligned doubles are written whole.
        self.segments = _CONTEXT.Array("d", 2, lock=False)
        self.cancelled = _CONTEXT.Event()
        self.process: BaseProcess = _CONTEXT.Process(
            target=_slot_main,
            args=(
                child_conn,
                self.progress,
                self.segments,
                self.cancelled,
                engine_name,
                engine_options,
            ),
            name="vocalis-synth",
            daemon=True,
        )
        self.process.start()
        child_conn.close()

    async def ready(self) -> EngineInfo:
        try:
            message = await _receive(self.conn)
        except EOFError:
            raise RuntimeError("the synthesis process exited while loading the engine") from None
        if "error" in message:
            raise RuntimeError(f"the engine failed to load: {message['error']}")
        ready = message["ready"]
        bases = {name: tuple(langs) for name, langs in ready.get("bases", {}).items()}
        return EngineInfo(**{**ready, "languages": tuple(ready["languages"]), "bases": bases})

    async def kill(self) -> None:
        self.process.terminate()
        await asyncio.to_thread(self.process.join, 2.0)
        if self.process.is_alive():
            self.process.kill()
            await asyncio.to_thread(self.process.join, 2.0)
        self.conn.close()


class _ProcessRun:
    def __init__(self, executor: ProcessExecutor, slot: _Slot) -> None:
        self._executor = executor
        self._slot = slot
        self._cancel_requested = asyncio.Event()

    @property
    def progress(self) -> float:
        return float(self._slot.progress.value)

    @property
    def segments(self) -> tuple[int, float]:
        count = int(self._slot.segments[0])
        return count, float(self._slot.segments[1])

    def cancel(self) -> None:
        self._slot.cancelled.set()
        self._cancel_requested.set()

    async def wait(self) -> Outcome:
        reply = asyncio.ensure_future(_receive(self._slot.conn))
        try:
            outcome = await self._until_reply_or_stuck(reply)
        except asyncio.CancelledError:
            reply.cancel()
            await self._executor.replace(self._slot)
            raise
        if outcome is None:  # the process died or was killed
            await self._executor.replace(self._slot)
            if self._cancel_requested.is_set():
                return Outcome("cancelled")
            return Outcome("failed", error="The synthesis process crashed.")
        self._executor.release(self._slot)
        return outcome

    async def _until_reply_or_stuck(self, reply: asyncio.Future[Any]) -> Outcome | None:
        cancel_asked = asyncio.ensure_future(self._cancel_requested.wait())
        try:
            await asyncio.wait({reply, cancel_asked}, return_when=asyncio.FIRST_COMPLETED)
            if not reply.done():
                # Cancelled: the slot should stop at its next chunk; if a chunk hangs, kill it
                # so the cancelled job stops using CPU.
                done, _ = await asyncio.wait({reply}, timeout=self._executor.cancel_grace)
                if not done:
                    reply.cancel()
                    await self._slot.kill()
                    return None
        finally:
            cancel_asked.cancel()
        try:
            return Outcome(**reply.result())
        except EOFError:
            return None


class ProcessExecutor:
    def __init__(
        self,
        engine_name: str,
        engine_options: dict[str, Any] | None = None,
        *,
        concurrency: int = 1,
        cancel_grace: float = 5.0,
        start_timeout: float = 300.0,
    ) -> None:
        self._engine_name = engine_name
        self._engine_options = dict(engine_options or {})
        self._concurrency = concurrency
        self.cancel_grace = cancel_grace
        self._start_timeout = start_timeout
        self._idle: asyncio.Queue[_Slot] = asyncio.Queue()
        self._slots: set[_Slot] = set()
        self._busy: set[_Slot] = set()
        self._spawning: set[asyncio.Task[None]] = set()
        self._closed = False

    async def open(self) -> EngineInfo:
        # The first slot loads synchronously so a broken engine fails the worker at startup;
        # the rest load in the background while the first can already take jobs.
        first = _Slot(self._engine_name, self._engine_options)
        self._slots.add(first)
        try:
            info = await asyncio.wait_for(first.ready(), self._start_timeout)
        except BaseException:
            self._slots.discard(first)
            await first.kill()
            raise
        self._idle.put_nowait(first)
        for _ in range(self._concurrency - 1):
            self._spawn()
        return info

    def _spawn(self) -> None:
        task = asyncio.ensure_future(self._add_slot())
        self._spawning.add(task)
        task.add_done_callback(self._spawning.discard)

    async def _add_slot(self) -> None:
        slot = _Slot(self._engine_name, self._engine_options)
        self._slots.add(slot)
        try:
            await asyncio.wait_for(slot.ready(), self._start_timeout)
        except Exception:  # noqa: BLE001 - background task: log, the pool runs one slot short
            log.exception("a synthesis process failed to start")
            self._slots.discard(slot)
            await slot.kill()
            return
        self._idle.put_nowait(slot)

    async def start(self, work: Work) -> _ProcessRun:
        while True:
            if not self._slots and not self._spawning:
                # Every process failed to (re)start; waiting would hold the job forever.
                raise RuntimeError("no synthesis process is running")
            slot = await self._idle.get()
            if slot.process.is_alive():
                break
            await self.replace(slot)  # died while idle
        self._busy.add(slot)
        slot.progress.value = 0.0
        slot.segments[0], slot.segments[1] = 0.0, 0.0
        slot.cancelled.clear()  # before the send, so no stale cancel reaches this job
        slot.conn.send_bytes(json.dumps(work.to_json()).encode())
        return _ProcessRun(self, slot)

    def release(self, slot: _Slot) -> None:
        self._busy.discard(slot)
        self._idle.put_nowait(slot)

    async def replace(self, slot: _Slot) -> None:
        self._busy.discard(slot)
        self._slots.discard(slot)
        await slot.kill()
        if not self._closed:
            self._spawn()

    def busy_pids(self) -> list[int]:
        """Process ids of slots running a job now (for tests and diagnostics)."""
        return [s.process.pid for s in self._busy if s.process.pid is not None]

    async def close(self) -> None:
        self._closed = True
        for task in list(self._spawning):
            task.cancel()
        for slot in list(self._slots):
            slot.cancelled.set()
            with contextlib.suppress(OSError):
                slot.conn.send_bytes(b"null")
        for slot in list(self._slots):
            await asyncio.to_thread(slot.process.join, self.cancel_grace)
            await slot.kill()
        # Dropping every reference frees the slots' semaphores now, not at an exit that a
        # re-raised SIGTERM (uvicorn) would skip.
        self._slots.clear()
        self._busy.clear()
        self._idle = asyncio.Queue()
