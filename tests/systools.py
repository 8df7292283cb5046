"""Debian packages the client tests install for themselves (QGIS, GDAL's tools, LibreOffice, poppler).

CI runs as root on a Debian machine with the package registry: a test that needs a
planner's desktop client installs it the first time, and skips with the reason only
when that is impossible (no apt, not root, the install failed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache


@cache
def apt_install(*packages: str) -> str | None:
    """Install Debian packages; ``None`` when done, else why not (the reason a test is skipped with)."""
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return f"not root: cannot apt-get install {' '.join(packages)}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", *packages]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
        if res.returncode != 0:  # a machine whose package lists were never fetched, or are old
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, timeout=600)
            res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"apt-get install {' '.join(packages)} failed ({exc})"
    if res.returncode != 0:
        return f"apt-get install {' '.join(packages)} failed: {res.stderr.strip()[-300:]}"
    return None
