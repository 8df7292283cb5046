"""The distance engine in another cost than metres: walking time per group, uphill and downhill apart.

:class:`CostEngine` is :class:`~servicecircle.engine.distance.DistanceEngine`
with every piece of the split graph weighed by
:class:`~servicecircle.network.walking.EdgeCosts` instead of its length: the
same facility splits, the same attachment of targets, the same one compiled
Dijkstra per category from a virtual source — only the weights differ.

Direction. With slope, walking ``a → b`` and ``b → a`` cost differently. A
planner asks how long it takes to walk *from home to* the facility, so the
graph is built reversed (an arc ``a → b`` carries the cost of walking
``b → a``) and the Dijkstra from the facilities then gives, at every node, the
time to walk from that node to its nearest facility::

    time(d) = access(d) / v + min(T(d → left) + D[left], T(d → right) + D[right])

with ``T`` the cost along the target's own edge (exact under the piecewise
profile, :meth:`EdgeCosts.segment`) and the facility's access leg also at the
flat speed ``v``.

>>> import numpy as np
>>> from servicecircle.network import network_from_arrays
>>> from servicecircle.network.walking import edge_times, load_walking_groups
>>> from servicecircle.engine import snap_points
>>> net = network_from_arrays(np.array([[0, 0], [100, 0]]), [0], [1], "EPSG:4544")
>>> costs = edge_times(net, load_walking_groups()["adult"])
>>> eng = CostEngine(net, snap_points(net, np.array([[20.0, 5.0]])), costs)
>>> homes = eng.attach(snap_points(net, np.array([[70.0, -3.0]])))
>>> round(float(eng.nearest([0], homes)[0] * 1.399), 6)  # 58 m at 1.399 m/s
58.0
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..network.model import WalkNetwork
from ..network.walking import EdgeCosts
from .distance import Attachment, DistanceEngine, _csr_min
from .snapping import Snapped

__all__ = ["CostEngine"]


class CostEngine(DistanceEngine):
    """Nearest-facility costs (seconds for a walking group) instead of metres.

    Parameters
    ----------
    network
        The walking network.
    sources
        Snapped facilities.
    costs
        What every edge costs each way (:func:`~servicecircle.network.walking.edge_times`).
    """

    def __init__(self, network: WalkNetwork, sources: Snapped, costs: EdgeCosts) -> None:
        self.costs = costs
        super().__init__(network, sources)
        self.source_access = self.source_access * costs.access_rate

    def _build_graph(
        self,
        a: NDArray[np.int64],
        b: NDArray[np.int64],
        w: NDArray[np.float64],
        pieces: tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]],
    ) -> sp.csr_array:
        whole, sp_edge, prev_off, last = pieces
        length = self.network.edge_length
        whole_edge = np.flatnonzero(whole)
        edge = np.r_[whole_edge, sp_edge, sp_edge[last]]
        off0 = np.r_[np.zeros(len(whole_edge)), prev_off, self._sp_off[last]]
        off1 = np.r_[length[whole_edge], self._sp_off, length[sp_edge[last]]]
        fwd, bwd = self.costs.segment(edge, off0, off1, length[edge])
        # reversed: the arc a -> b carries the cost of walking b -> a
        rows = np.r_[a, b]
        cols = np.r_[b, a]
        wts = np.r_[bwd, fwd]
        ok = np.isfinite(wts)
        return _csr_min(rows[ok], cols[ok], wts[ok], self.n_graph_nodes)

    def _reach(self, budget: float) -> float:
        return budget * self.costs.max_speed

    def attach(self, targets: Snapped) -> Attachment:
        """Connect targets: costs from each target along its edge to its two graph neighbours."""
        m = super().attach(targets)
        ok = m.ok
        e = targets.edge[ok]
        o = targets.offset[ok]
        L = self.network.edge_length[e]
        # walking from the target back towards u to its left node, and on towards v to its right one
        _, to_left = self.costs.segment(e, np.maximum(o - m.left_cost[ok], 0.0), o, L)
        to_right, _ = self.costs.segment(e, o, np.minimum(o + m.right_cost[ok], L), L)
        left_cost = m.left_cost.copy()
        right_cost = m.right_cost.copy()
        left_cost[ok] = to_left
        right_cost[ok] = to_right
        return Attachment(m.left, left_cost, m.right, right_cost, m.access * self.costs.access_rate, m.xy)
