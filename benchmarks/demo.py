"""The bundled demo end to end (``servicecircle demo``), cold and warm, in subprocesses.

Cold: ``SERVICECIRCLE_CACHE`` points to a new, empty folder, so the OSM file is
parsed and the network built. Warm: the same command again with that cache.
Wall time is measured around the whole process (interpreter start and imports
included, as a planner experiences it); CPU time is the child's own (``wait4``);
peak memory is the child's ``VmHWM``, polled while it runs.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def servicecircle_exe() -> str:
    import sys

    exe = Path(sys.executable).with_name("servicecircle")
    return str(exe) if exe.exists() else "servicecircle"


def _hwm_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _timed(cmd: list[str], env: dict) -> tuple[float, float, float, int, str]:
    """Wall time, CPU time (the child's own, from ``wait4``) and peak RSS of one command.

    Peak RSS is the child's ``VmHWM``, polled every 20 ms until it exits: the
    ``ru_maxrss`` that ``wait4`` reports would include the resident set of this
    (large) parent process at the fork, which Linux carries over into the child.
    """
    import threading

    out_buf: list[bytes] = []
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    reader = threading.Thread(target=lambda: out_buf.append(proc.stdout.read()), daemon=True)
    reader.start()
    peak = 0
    while True:
        kb = _hwm_kb(proc.pid)
        if kb:
            peak = max(peak, kb)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.02)
    took = time.perf_counter() - t
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return took, cpu, peak / 1024, proc.returncode, b"".join(out_buf).decode(errors="replace")


def run(repeats: int = 3, echo: bool = True) -> dict:
    """Cold once per repeat (a fresh cache each time), warm after each cold run; best and all times."""
    res = {"cold": [], "warm": [], "cold_cpu": [], "warm_cpu": [], "cold_rss_mb": [], "warm_rss_mb": []}
    for _ in range(repeats):
        with (
            tempfile.TemporaryDirectory(prefix="sc-bench-cache-") as cache,
            tempfile.TemporaryDirectory(prefix="sc-bench-demo-") as out,
        ):
            env = dict(os.environ, SERVICECIRCLE_CACHE=cache)
            cmd = [servicecircle_exe(), "demo", "--out", out, "--quiet"]
            for kind in ("cold", "warm"):
                took, cpu, rss, rc, text = _timed(cmd, env)
                if rc != 0:
                    raise RuntimeError(f"servicecircle demo failed ({kind}):\n{text[-3000:]}")
                res[kind].append(took)
                res[f"{kind}_rss_mb"].append(rss)
                res[f"{kind}_cpu"].append(cpu)
                if echo:
                    print(f"  demo {kind:<4} {took:7.2f} s (cpu {cpu:6.2f})   peak RSS {rss:6.0f} MB", flush=True)
    res["command"] = "SERVICECIRCLE_CACHE=<empty dir> servicecircle demo --out <tmp> --quiet"
    return res


def profile(path: Path, warm: bool = True) -> None:
    """A pyinstrument profile of the warm demo (in this process) written to ``path``."""
    import warnings

    from pyinstrument import Profiler

    import servicecircle as sc

    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        sc.settings.cache_folder = Path(cache)
        sc.settings.progress = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if warm:  # a first run fills the network cache exactly as the demo keys it
                sc.run_demo(out, data_dir=ROOT / "data")
            prof = Profiler(interval=0.002)
            prof.start()
            sc.run_demo(out, data_dir=ROOT / "data")
            prof.stop()
    path.write_text(prof.output_text(unicode=True, color=False))
