"""Use the machine's cores for the few loops that dominate large runs.

scipy's Dijkstra and shapely's nearest-neighbour search hold the GIL, so threads
do not help; forked worker processes do, and cost nothing to start on Linux
because they share the parent's memory (copy-on-write): the network, the graph
and the spatial indexes are never pickled, only the small tasks and results.

``settings.workers``: ``1`` never forks; a number uses that many processes;
``None`` (the default) uses up to four cores, but only for large jobs and only
where ``fork`` is available (Linux).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import settings

__all__ = ["workers_for", "pmap"]

_STATE: dict[str, Any] = {}


def workers_for(work: float, threshold: float = 2e6) -> int:
    """How many processes to use for a job of size ``work`` (e.g. nodes × categories)."""
    want = settings.workers
    if want is not None:
        return max(int(want), 1)
    if not sys.platform.startswith("linux") or work < threshold:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _call(index: int) -> Any:
    return _STATE["func"](_STATE["items"][index])


def pmap(func: Callable[[Any], Any], items: Iterable[Any], workers: int) -> Iterator[Any]:
    """``func(x) for x in items``, in order, in forked processes when ``workers > 1``.

    ``func`` may close over large objects: the children inherit them. Results
    are yielded as they come (wrap the call in a progress bar).
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        yield from (func(x) for x in items)
        return
    _STATE.update(func=func, items=items)
    try:
        with mp.get_context("fork").Pool(min(workers, len(items))) as pool:
            yield from pool.imap(_call, range(len(items)), chunksize=1)
    finally:
        _STATE.clear()
