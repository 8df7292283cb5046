"""Static report figures: Chinese text renders with a real CJK font, at the asked DPI, not blank."""

from __future__ import annotations

import functools
import re
import warnings

import numpy as np
import pytest

from servicecircle.errors import OutputError, ServiceCircleError
from servicecircle.outputs import figures

from .test_exports import build_small_assessment

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def small():
    return build_small_assessment()


@functools.lru_cache(maxsize=8)
def _codepoints(path: str, family: str) -> frozenset[int]:
    """The characters the face called ``family`` in ``path`` (a .ttf/.otf/.ttc) maps (fontTools)."""
    from fontTools.ttLib import TTCollection, TTFont

    faces = (
        TTCollection(path, lazy=True).fonts if path.lower().endswith((".ttc", ".otc")) else [TTFont(path, lazy=True)]
    )
    for face in faces:
        names = {n.toUnicode() for n in face["name"].names if n.nameID in (1, 16)}
        if family in names or len(faces) == 1:
            return frozenset(face.getBestCmap())
    return frozenset()


def _font_has(path: str, family: str, chars: str) -> bool:
    """Whether the face called ``family`` in ``path`` maps every character of ``chars``."""
    cmap = _codepoints(path, family)
    return bool(chars) and all(ord(ch) in cmap for ch in chars)


def _render(fig, path, dpi):
    """Save the figure, returning every warning matplotlib raised while drawing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures._save(fig, path, dpi)
    return [str(w.message) for w in caught]


def _not_blank(path, dpi):
    from PIL import Image

    with Image.open(path) as im:
        assert im.info["dpi"] == pytest.approx((dpi, dpi), abs=0.5)
        px = np.asarray(im.convert("RGB"))
    assert px.std() > 10  # not one flat colour
    packed = (px[::3, ::3].astype(np.int32) << np.array([16, 8, 0])).sum(axis=2)
    assert len(np.unique(packed)) > 8
    assert (px < 128).all(axis=2).mean() > 0.001  # some dark ink: text, outlines
    return px.shape


def test_a_cjk_font_is_found_and_has_the_glyphs():
    family, path = figures.cjk_font()
    assert _font_has(path, family, "社区生活圈达标未覆盖幼儿园")


def test_overview_uses_the_cjk_font_for_every_chinese_label(small, tmp_path):
    from matplotlib import font_manager
    from matplotlib.text import Text

    fig = figures.make_overview(small)
    texts = [t for t in fig.findobj(Text) if CJK.search(t.get_text())]
    assert any("社区生活圈达标概览" in t.get_text() for t in texts)  # title
    assert any("未达标项数" in t.get_text() for t in texts)  # legend title
    assert any("公里" in t.get_text() or "米" in t.get_text() for t in texts)  # scale bar
    assert any("北" in t.get_text() for t in texts)  # north arrow
    family, _ = figures.cjk_font()
    for t in texts:  # resolved outside the figure's style context, as a notebook draws it later
        assert t.get_fontproperties().get_family()[0] == family
        path = str(font_manager.findfont(t.get_fontproperties(), fallback_to_default=False))
        chars = "".join(sorted(set(CJK.findall(t.get_text()))))
        assert _font_has(path, family, chars), (t.get_text(), path)
    messages = _render(fig, tmp_path / "overview.png", 300)
    assert not [m for m in messages if "Glyph" in m or "missing from" in m], messages
    h, w, _ = _not_blank(tmp_path / "overview.png", 300)
    assert (w, h) == (pytest.approx(8.0 * 300, abs=2), pytest.approx(8.6 * 300, abs=2))
    assert any("OpenStreetMap contributors" in t.get_text() for t in fig.findobj(Text))


def test_figure_functions_write_pngs_at_the_asked_dpi(small, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p1 = figures.figure_overview(small, tmp_path / "o.png", dpi=72)
        p2 = figures.figure_check(small, "kindergarten", tmp_path / "k.png", dpi=100)
        p3 = figures.figure_check(small, "park_reach", tmp_path / "p.png", dpi=100)
        p4 = figures.figure_scorecard(small, tmp_path / "s.png", dpi=150)
    assert not [w for w in caught if "Glyph" in str(w.message)]
    _not_blank(p1, 72)
    _not_blank(p2, 100)
    _not_blank(p3, 100)
    _not_blank(p4, 150)


def test_check_figure_shows_the_gap_and_the_facilities(small):
    from matplotlib.text import Text

    fig = figures.make_check(small, "kindergarten")
    labels = [t.get_text() for t in fig.findobj(Text)]
    assert any("服务缺口 gap" in s for s in labels)  # the kindergarten check fails somewhere
    assert any(s.startswith("幼儿园 Kindergarten") for s in labels)
    assert any("全市覆盖率 citywide" in s for s in labels)
    with pytest.raises(ServiceCircleError, match="no check 'nope'"):
        figures.make_check(small, "nope")


def test_scorecard_has_a_bar_per_target(small):
    from matplotlib.patches import Rectangle

    fig = figures.make_scorecard(small)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == len(small.scorecard)
    kg = small.scorecard.reset_index(drop=True)
    i = int(np.flatnonzero(kg["target_key"] == "kindergarten")[0])
    bar = bars[i]
    assert bar.get_width() == pytest.approx(kg.loc[i, "value"])


def test_no_cjk_font_is_a_clear_error(monkeypatch, tmp_path):
    from servicecircle.outputs import fonts  # the one font search the figures and the PDF report share

    monkeypatch.setattr(fonts, "_found", None)
    monkeypatch.setattr(fonts, "PREFERRED_FONTS", ())
    monkeypatch.setattr(fonts, "_candidate_files", lambda: [])
    monkeypatch.setattr(fonts, "_FILE_HINT", re.compile(r"^$"))
    with pytest.raises(OutputError, match="fonts-noto-cjk"):
        figures.cjk_font(refresh=True)


def test_a_font_without_chinese_is_refused(monkeypatch):
    from matplotlib import font_manager

    from servicecircle.outputs import fonts

    latin = font_manager.findfont("DejaVu Sans")
    monkeypatch.setattr(fonts, "_found", None)
    monkeypatch.setenv("SERVICECIRCLE_CJK_FONT", latin)
    with pytest.raises(OutputError, match="no Chinese glyphs"):
        figures.cjk_font(refresh=True)
