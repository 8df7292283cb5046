"""Ctrl-C at any moment of a command gives the one usual line, never a traceback (issue 12).

A real SIGINT is sent to the installed ``servicecircle`` command at several moments
of a demo run: while its libraries load (geopandas, shapely, pyproj are imported on
first use, not when the command starts), while it reads and computes, and while it
writes. Every time: exit code 130 and exactly one line on stderr.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

COMMAND = Path(sys.executable).with_name("servicecircle")


@pytest.mark.skipif(not COMMAND.exists(), reason="the servicecircle command is not installed next to python")
@pytest.mark.parametrize("delay", [0.15, 0.4, 0.8, 1.2])
def test_ctrl_c_gives_one_line(delay, tmp_path):
    env = dict(os.environ, SERVICECIRCLE_CACHE=str(tmp_path / "cache"))
    proc = subprocess.Popen(
        [str(COMMAND), "demo", "--out", str(tmp_path / "out"), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        # Ctrl-C as a terminal delivers it: a shell running the tests in the background ignores SIGINT, and a
        # child would inherit that (Python then installs no handler and the signal is lost: the test would skip)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # finished before the signal (a fast machine): nothing to check
        pytest.skip(f"the demo finished within {delay} s")
    assert "Traceback" not in err, err
    assert err == "servicecircle: interrupted 已中断\n", err
    assert proc.returncode == 130


def test_the_command_starts_without_the_heavy_libraries():
    code = (
        "import sys, servicecircle.cli, servicecircle; "
        "print(sorted(m for m in ('geopandas', 'shapely', 'pyproj', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
