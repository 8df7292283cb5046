"""The Chinese font every drawing writer needs: found once, registered with matplotlib.

The report figures (:mod:`~servicecircle.outputs.figures`) and the PDF report
(:mod:`~servicecircle.outputs.report`) both draw Chinese text with matplotlib;
:func:`cjk_font` finds a font that has the glyphs (``$SERVICECIRCLE_CJK_FONT``,
then the usual CJK families in matplotlib's font list, then the files ``fc-list
:lang=zh`` lists, installed after matplotlib built its font cache) or says, in
one line, how to install one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from typing import Any

from ..errors import OutputError

__all__ = ["cjk_font", "PREFERRED_FONTS"]

#: CJK families tried in this order (Simplified Chinese forms first).
PREFERRED_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Noto Sans CJK HK",
    "Droid Sans Fallback",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "SimSun",
)
_FILE_HINT = re.compile(
    r"(cjk|sourcehan|wqy|wenquanyi|droidsansfallback|simhei|simsun|msyh|yahei|pingfang|"
    r"uming|ukai|notosanssc|notoserifsc|hei)",
    re.IGNORECASE,
)
_INSTALL_FIX = (
    "install a Chinese font: on Debian/Ubuntu `apt-get install fonts-noto-cjk` (or run "
    "tools/ensure-browser.sh), on other systems any of Noto Sans CJK SC, Source Han Sans, "
    "Microsoft YaHei or SimHei; or set SERVICECIRCLE_CJK_FONT to a .ttf/.otf/.ttc file"
)
_SAMPLE = "社区达标"
_found: tuple[str, str] | None = None


# ------------------------------------------------------------------ fonts
def _has_glyphs(path: str, text: str = _SAMPLE) -> bool:
    try:
        from matplotlib.ft2font import FT2Font

        font = FT2Font(path)
        return all(font.get_char_index(ord(ch)) != 0 for ch in text)
    except Exception:
        return False


def _candidate_files() -> list[str]:
    from matplotlib import font_manager

    files = [f for f in font_manager.findSystemFonts() if _FILE_HINT.search(os.path.basename(f))]
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20)
            files += [line.split(":")[0].strip() for line in out.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    seen, unique = set(), []
    for f in sorted(files):
        if f not in seen and os.path.isfile(f):
            seen.add(f)
            unique.append(f)
    return unique


def cjk_font(refresh: bool = False) -> tuple[str, str]:
    """``(family, file)`` of a font with Chinese glyphs, registered with matplotlib.

    Raises
    ------
    OutputError
        When no such font is installed (the message says how to install one).
    """
    global _found
    if _found is not None and not refresh:
        return _found
    from matplotlib import font_manager

    fm = font_manager.fontManager
    env = os.environ.get("SERVICECIRCLE_CJK_FONT")
    if env:
        if not os.path.isfile(env):
            raise OutputError(
                "the font file named by SERVICECIRCLE_CJK_FONT does not exist", file=env, fix=_INSTALL_FIX
            )
        fm.addfont(env)
        entries = [e for e in fm.ttflist if os.path.abspath(e.fname) == os.path.abspath(env)]
        if not entries or not _has_glyphs(env):
            raise OutputError(
                "the font named by SERVICECIRCLE_CJK_FONT has no Chinese glyphs", file=env, fix=_INSTALL_FIX
            )
        names = [e.name for e in entries]
        pick = next((n for n in PREFERRED_FONTS if n in names), names[0])
        _found = (pick, env)
        return _found

    def lookup() -> tuple[str, str] | None:
        by_name: dict[str, str] = {}
        for e in sorted(fm.ttflist, key=lambda e: (e.style != "normal", abs(_weight(e.weight) - 400), e.fname)):
            by_name.setdefault(e.name, e.fname)
        for name in PREFERRED_FONTS:
            if name in by_name and _has_glyphs(by_name[name]):
                return name, by_name[name]
        return None

    hit = lookup()
    if hit is None:  # matplotlib's font cache may predate the font's installation
        known = {e.fname for e in fm.ttflist}
        for f in _candidate_files():
            if f not in known:
                with contextlib.suppress(Exception):
                    fm.addfont(f)
        hit = lookup()
        if hit is None:
            for e in fm.ttflist:
                if _FILE_HINT.search(os.path.basename(e.fname)) and _has_glyphs(e.fname):
                    hit = (e.name, e.fname)
                    break
    if hit is None:
        raise OutputError(
            "no font with Chinese characters was found, so Chinese labels would show as boxes", fix=_INSTALL_FIX
        )
    _found = hit
    return _found


def _weight(w: Any) -> int:
    from matplotlib.font_manager import weight_dict

    return int(w) if isinstance(w, (int, float)) or str(w).isdigit() else int(weight_dict.get(str(w), 400))
