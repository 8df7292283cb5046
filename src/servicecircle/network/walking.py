"""Walking time per population group: flat speeds, Tobler's hiking function, what a group cannot use.

The groups and their speeds are data (``network/walking.toml``, each figure
with its source and whether it is confirmed); this module turns them into the
time it takes a group to walk every edge of the network, in each direction.

Time model (seconds)::

    time(piece) = horizontal_length / speed(grade)
    speed(grade) = flat_speed * W(grade) / W(0)       (slope = "tobler")
    W(s) = 6 exp(-3.5 |s + 0.05|) km/h                 (Tobler 1993)

where ``grade`` is the piece's rise over its horizontal length in the direction
walked (uphill positive). Without terrain every piece is flat and an edge takes
``length / flat_speed`` both ways. The access leg (from a point to the street)
is walked at the flat speed. Pieces steeper than the group's ``max_grade`` and
edges whose ``highway`` is in its ``closed_highway`` cannot be used (infinite
time).

>>> g = load_walking_groups()["adult"]
>>> round(500 / g.flat_speed / 60, 2)  # 500 m on the flat, minutes
5.96
>>> round(float(tobler_speed(0.10, g.flat_speed) * 3.6), 3)  # 10 % uphill, km/h
3.549
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputDataError, warn_data
from .model import WalkNetwork
from .slope import Terrain

__all__ = [
    "WalkingGroup",
    "EdgeCosts",
    "DEFAULT_GROUP",
    "load_walking_groups",
    "tobler_speed",
    "edge_times",
    "edge_metres",
]

#: The group today's metre radii belong to.
DEFAULT_GROUP = "adult"

_HERE = Path(__file__).resolve().parent
_SLOPE_MODELS = ("tobler", "none")


@dataclass(frozen=True)
class WalkingGroup:
    """One population group's walking model (a table of ``walking.toml``)."""

    key: str
    name_zh: str
    name_en: str
    flat_speed: float
    slope: str = "tobler"
    max_grade: float | None = None
    closed_highway: tuple[str, ...] = ()
    source: str = ""
    confirmed: bool = False

    @property
    def label(self) -> str:
        """``"elderly (80+), 0.94 m/s"``: how a layer or a report names the group."""
        return f"{self.name_en}, {self.flat_speed:g} m/s"


def load_walking_groups(path: str | Path | None = None) -> dict[str, WalkingGroup]:
    """The walking groups of ``path`` (default: the shipped ``walking.toml``).

    Raises
    ------
    InputDataError
        If the file is missing or a group lacks a positive ``flat_speed_m_s``,
        names an unknown slope model or has a non-positive ``max_grade``.
    """
    file = _HERE / "walking.toml" if path is None else Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputDataError("walking-group file not found", file=file, fix="check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputDataError(f"not a valid TOML file ({exc})", file=file, fix="correct the TOML syntax") from None
    groups: dict[str, WalkingGroup] = {}
    for key, t in data.items():
        if not isinstance(t, dict):
            raise InputDataError(f"{key!r} is not a table", file=file, fix="give one [group] table per group")
        speed = t.get("flat_speed_m_s")
        if not isinstance(speed, int | float) or isinstance(speed, bool) or not speed > 0:
            raise InputDataError(
                f"group {key!r} has no positive flat_speed_m_s", file=file, fix="give its speed on flat ground in m/s"
            )
        slope = str(t.get("slope", "tobler"))
        if slope not in _SLOPE_MODELS:
            raise InputDataError(
                f"group {key!r}: unknown slope model {slope!r}", file=file, fix="use " + " or ".join(_SLOPE_MODELS)
            )
        mg = t.get("max_grade")
        if mg is not None and not (isinstance(mg, int | float) and mg > 0):
            raise InputDataError(f"group {key!r}: max_grade must be > 0", file=file, fix="e.g. 0.0833 for 1:12")
        groups[key] = WalkingGroup(
            key=key,
            name_zh=str(t.get("name_zh", key)),
            name_en=str(t.get("name_en", key)),
            flat_speed=float(speed),
            slope=slope,
            max_grade=None if mg is None else float(mg),
            closed_highway=tuple(str(v) for v in t.get("closed_highway", ())),
            source=str(t.get("source", "")),
            confirmed=bool(t.get("confirmed", False)),
        )
    return groups


def tobler_speed(grade: ArrayLike, flat_speed: float) -> NDArray[np.float64]:
    """Walking speed (m/s) on a grade, Tobler's function scaled to ``flat_speed`` on the flat.

    >>> round(float(tobler_speed(-0.05, 1.0)), 4)  # the fastest grade: exp(0.175)
    1.1912
    """
    g = np.asarray(grade, dtype=np.float64)
    out: NDArray[np.float64] = flat_speed * np.exp(-3.5 * np.abs(g + 0.05) + 3.5 * 0.05)
    return out


@dataclass(frozen=True)
class EdgeCosts:
    """The cost of walking every edge, each way, and of the access legs.

    Attributes
    ----------
    forward, backward
        Cost of the whole edge walked ``u`` → ``v`` and ``v`` → ``u`` (``inf``: closed).
    access_rate
        Cost per metre of an access leg (the straight line to the street).
    unit
        ``"s"`` (seconds) or ``"m"`` (metres).
    directed
        Whether ``forward`` and ``backward`` may differ.
    max_speed
        Metres of straight line per unit of cost at most (bounds a search by budget).
    knot_edge, knot_s, knot_forward, knot_backward, knot_closed
        The cumulative cost along each edge at its piece ends (from ``u``): walking
        ``u`` → ``s`` costs ``interp(s, knot_s, knot_forward)``, ``s`` → ``u`` costs
        ``interp(s, knot_s, knot_backward)`` (closed pieces count 0 there, and 1 in
        ``knot_closed``); ``None``: cost is linear in length.
    label
        What the costs are (``"adult, 1.3988 m/s, Tobler slope"``).
    """

    forward: NDArray[np.float64]
    backward: NDArray[np.float64]
    access_rate: float
    unit: str
    directed: bool
    max_speed: float
    knot_edge: NDArray[np.int64] | None = None
    knot_s: NDArray[np.float64] | None = None
    knot_forward: NDArray[np.float64] | None = None
    knot_backward: NDArray[np.float64] | None = None
    knot_closed: NDArray[np.float64] | None = None
    label: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def segment(
        self, edge: NDArray[np.int64], start: NDArray[np.float64], end: NDArray[np.float64], length: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Cost of walking a part of ``edge`` from ``start`` to ``end`` (metres from ``u``, ``start <= end``) and back.

        ``length`` is the edges' lengths (``network.edge_length[edge]``).
        Returns ``(forward, backward)``: ``start → end`` and ``end → start``;
        ``inf`` when the part crosses a closed piece.
        """
        edge = np.asarray(edge, dtype=np.int64)
        start = np.clip(np.asarray(start, dtype=np.float64), 0.0, length)
        end = np.clip(np.asarray(end, dtype=np.float64), 0.0, length)
        if self.knot_edge is None:
            # a zero-length edge (a one-way link) is one piece: its whole cost, inf included
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(length > 0, (end - start) / length, 1.0)
                fwd = np.where(frac > 0, self.forward[edge] * frac, 0.0)
                bwd = np.where(frac > 0, self.backward[edge] * frac, 0.0)
            return fwd, bwd
        assert self.knot_s is not None and self.knot_forward is not None and self.knot_backward is not None
        assert self.knot_closed is not None
        gap = float(self.knot_s.max(initial=0.0)) + 1.0
        pos = self.knot_edge * gap + self.knot_s
        q0 = edge * gap + start
        q1 = edge * gap + end
        fwd = np.interp(q1, pos, self.knot_forward) - np.interp(q0, pos, self.knot_forward)
        bwd = np.interp(q1, pos, self.knot_backward) - np.interp(q0, pos, self.knot_backward)
        closed = np.interp(q1, pos, self.knot_closed) - np.interp(q0, pos, self.knot_closed) > 1e-12
        return np.where(closed, np.inf, np.maximum(fwd, 0.0)), np.where(closed, np.inf, np.maximum(bwd, 0.0))


def edge_metres(network: WalkNetwork) -> EdgeCosts:
    """Metres: the costs of today's distance engine (length both ways, access legs at 1 per metre)."""
    return EdgeCosts(network.edge_length, network.edge_length, 1.0, "m", False, 1.0, label="metres")


def edge_times(network: WalkNetwork, group: WalkingGroup, terrain: Terrain | None = None) -> EdgeCosts:
    """Seconds for ``group`` to walk every edge of ``network`` each way (with ``terrain``: uphill differs).

    Parameters
    ----------
    network
        The walking network.
    group
        The walking model.
    terrain
        Elevation profiles (:func:`servicecircle.network.slope.edge_terrain`);
        ``None``: flat.

    Returns
    -------
    EdgeCosts
        In seconds; directed when there is terrain.

    Examples
    --------
    A 100 m street rising 10 m from ``u`` to ``v``, walked by an adult:
    uphill at 1.399 exp(-3.5·0.15 + 0.175) m/s, downhill (-10 %, as fast as the flat) at 1.399 m/s.

    >>> import numpy as np
    >>> from servicecircle.network import network_from_arrays
    >>> from servicecircle.network.slope import terrain_from_function
    >>> net = network_from_arrays(np.array([[0.0, 0.0], [100.0, 0.0]]), [0], [1], "EPSG:4544")
    >>> c = edge_times(net, load_walking_groups()["adult"], terrain_from_function(net, lambda x, y: x / 10))
    >>> round(float(c.forward[0]), 3), round(float(c.backward[0]), 3)
    (101.434, 71.48)
    """
    if not group.confirmed:
        warn_data(
            "speed_unconfirmed",
            f"the walking speed of group {group.key!r} ({group.flat_speed:g} m/s) is not confirmed: {group.source}",
        )
    n = network.n_edges
    v0 = group.flat_speed
    closed = np.zeros(n, dtype=bool)
    if group.closed_highway and "highway" in network.edge_tags:
        closed = np.isin(np.asarray(network.edge_tags["highway"], dtype=str), list(group.closed_highway))
    label = f"{group.name_en}, {v0:g} m/s"
    if terrain is None or group.slope == "none":
        t = network.edge_length / v0
        t = np.where(closed, np.inf, t)
        return EdgeCosts(t, t.copy(), 1.0 / v0, "s", False, v0, label=label, info={"group": group.key})
    g = terrain.piece_grade
    L = terrain.piece_length
    t_fw = L / tobler_speed(g, v0)
    t_bw = L / tobler_speed(-g, v0)
    if group.max_grade is not None:
        steep = np.abs(g) > group.max_grade + 1e-12
        t_fw = np.where(steep, np.inf, t_fw)
        t_bw = np.where(steep, np.inf, t_bw)
    pe = terrain.piece_edge
    t_fw = np.where(closed[pe], np.inf, t_fw)
    t_bw = np.where(closed[pe], np.inf, t_bw)
    forward: NDArray[np.float64] = np.bincount(pe, weights=t_fw, minlength=n).astype(np.float64)  # inf stays inf
    backward: NDArray[np.float64] = np.bincount(pe, weights=t_bw, minlength=n).astype(np.float64)
    # cumulative cost at every piece end, with a knot at each edge's start
    first = np.r_[True, pe[1:] != pe[:-1]] if len(pe) else np.zeros(0, dtype=bool)
    shut = np.isinf(t_fw) | np.isinf(t_bw)
    cf = _cum_per_edge(np.where(shut, 0.0, t_fw), first)
    cb = _cum_per_edge(np.where(shut, 0.0, t_bw), first)
    cc = _cum_per_edge(shut.astype(np.float64), first)
    # knots in edge order without a sort: each edge's start, then every piece's end
    at = np.flatnonzero(first)
    k_edge = np.insert(pe, at, pe[at])
    k_s = np.insert(terrain.piece_start + L, at, terrain.piece_start[at])
    k_f = np.insert(cf, at, 0.0)
    k_b = np.insert(cb, at, 0.0)
    k_c = np.insert(cc, at, 0.0)
    vmax = float(tobler_speed(-0.05, v0))
    return EdgeCosts(
        forward,
        backward,
        1.0 / v0,
        "s",
        True,
        max(vmax, v0),
        k_edge,
        k_s,
        k_f,
        k_b,
        k_c,
        label=label + ", Tobler slope",
        info={"group": group.key, "dem": terrain.source, "unknown_pieces": terrain.n_unknown},
    )


def _cum_per_edge(values: NDArray[np.float64], first: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Running sum of ``values`` restarting where ``first`` is True."""
    if not len(values):
        return values.copy()
    c = np.cumsum(values)
    start = np.maximum.accumulate(np.where(first, np.arange(len(values)), 0))
    out: NDArray[np.float64] = c - np.r_[0.0, c][start]
    return out
