"""Small vectorised helpers on sorted arrays."""

from __future__ import annotations

import numpy as np


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """Boolean mask of the first element of each run of equal keys (sorted input).

    >>> run_starts(np.array([1, 1, 2, 3, 3])).tolist()
    [True, False, True, True, False]
    >>> run_starts(np.array([], dtype=int)).tolist()
    []
    """
    n = len(keys[0])
    out = np.zeros(n, dtype=bool)
    if n:
        out[0] = True
        for k in keys:
            k = np.asarray(k)
            diff = k[1:] != k[:-1]
            out[1:] |= diff if diff.ndim == 1 else diff.any(axis=tuple(range(1, diff.ndim)))
    return out


def run_ends(*keys: np.ndarray) -> np.ndarray:
    """Boolean mask of the last element of each run of equal keys (sorted input).

    >>> run_ends(np.array([1, 1, 2, 3, 3])).tolist()
    [False, True, True, False, True]
    """
    starts = run_starts(*keys)
    out = np.zeros_like(starts)
    if len(starts):
        out[:-1] = starts[1:]
        out[-1] = True
    return out


def ragged_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])`` without the loop.

    >>> ragged_ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    out: np.ndarray = np.arange(total, dtype=np.int64) + np.repeat(
        np.asarray(starts, dtype=np.int64) - (ends - counts), counts
    )
    return out
