"""Wall time and peak memory of benchmark stages.

Peak memory is the kernel's own high-water mark of the process's resident set
(``VmHWM`` in ``/proc/self/status``), reset before every stage by writing ``5``
to ``/proc/self/clear_refs`` (Linux ≥ 4.0). Unlike ``tracemalloc`` it sees the
allocations of compiled code (scipy, pandana's C++, GEOS), and unlike a sampling
thread it cannot miss a short peak inside a call that holds the GIL. Where the
reset is not allowed, a psutil sampling thread (every 5 ms) stands in.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

MB = 1024 * 1024


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    if kb is not None:
        return kb / 1024
    import psutil

    return psutil.Process().memory_info().rss / MB


def _can_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _status_kb("VmHWM") is not None
    except OSError:
        return False


HWM_RESET = _can_reset()


class _Sampler:
    """Fallback peak-RSS sampler (a thread polling psutil)."""

    def __init__(self, interval: float = 0.005) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)
        return self.peak / MB


def _trim() -> None:
    """Hand memory that Python and numpy have freed back to the OS (glibc ``malloc_trim``).

    Without it, memory freed just before a stage stays resident and is silently
    reused by the stage, so the stage's growth above its starting RSS is understated.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


@contextmanager
def peak_rss():
    """Yields a dict; on exit it holds ``start_mb`` and ``peak_mb`` for the block."""
    gc.collect()
    _trim()
    out = {"start_mb": rss_mb()}
    if HWM_RESET:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        try:
            yield out
        finally:
            out["peak_mb"] = (_status_kb("VmHWM") or 0) / 1024
    else:
        s = _Sampler()
        try:
            yield out
        finally:
            out["peak_mb"] = s.stop()


@dataclass
class Row:
    """One measured (or estimated, or skipped) stage of one method."""

    case: str
    method: str
    stage: str
    seconds: float | None = None
    cpu_seconds: float | None = None  # user + system CPU of the whole process during the stage
    peak_mb: float | None = None
    delta_mb: float | None = None
    status: str = "measured"  # measured | estimated | skipped | capped
    note: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


class Recorder:
    """Collects rows; ``stage`` times a block and records its peak memory."""

    def __init__(self, case: str, echo: bool = True) -> None:
        self.case = case
        self.rows: list[Row] = []
        self.echo = echo
        self._method_start: dict[str, float] = {}

    def start_method(self, method: str) -> None:
        gc.collect()
        _trim()
        self._method_start[method] = rss_mb()

    @contextmanager
    def stage(self, method: str, stage: str, note: str = ""):
        row = Row(self.case, method, stage, note=note)
        base = self._method_start.get(method)
        with peak_rss() as mem:
            t = time.perf_counter()
            c = time.process_time()
            try:
                yield row
            finally:
                took = time.perf_counter() - t
                cpu = time.process_time() - c
        if row.seconds is None:
            row.seconds = took
            row.cpu_seconds = cpu
        row.peak_mb = mem["peak_mb"]
        row.delta_mb = mem["peak_mb"] - (base if base is not None else mem["start_mb"])
        self.rows.append(row)
        if self.echo:
            self._print(row)

    def add(self, method: str, stage: str, seconds: float | None, *, status: str, note: str = "", **extra) -> Row:
        row = Row(self.case, method, stage, seconds=seconds, status=status, note=note, extra=extra)
        self.rows.append(row)
        if self.echo:
            self._print(row)
        return row

    @staticmethod
    def _print(row: Row) -> None:
        sec = "—" if row.seconds is None else f"{row.seconds:9.3f} s"
        if row.cpu_seconds is not None:
            sec += f" (cpu {row.cpu_seconds:8.3f})"
        mem = "" if row.peak_mb is None else f"  peak {row.peak_mb:8.0f} MB (Δ {row.delta_mb:+7.0f})"
        flag = "" if row.status == "measured" else f"  [{row.status}]"
        print(f"  {row.method:<28} {row.stage:<26} {sec}{mem}{flag}  {row.note}", flush=True)


@contextmanager
def quiet_stdout():
    """Silence writes to file descriptor 1 (pandana's C++ prints progress there)."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
