"""Use the machine's cores for the few loops that dominate large runs — only when asked.

scipy's Dijkstra and shapely's nearest-neighbour search hold the GIL, so threads
do not help; forked worker processes do, and cost nothing to start on Linux
because they share the parent's memory (copy-on-write): the network, the graph
and the spatial indexes are never pickled, only the small tasks and results.

Forking is opt-in. ``settings.workers`` (or the ``workers`` option of a run):
``1``, the default, never forks, which is what a notebook (Jupyter runs threads,
and Python 3.12+ warns about forking a threaded process) or a host that embeds
servicecircle needs; a number uses that many processes; ``None`` uses up to four
cores, but only for large jobs and only where ``fork`` is available (Linux). The
``servicecircle`` command, a fresh single-purpose process, chooses ``None``
unless ``--workers`` says otherwise.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import settings

__all__ = ["workers_for", "pmap", "Background", "use_workers"]

_STATE: dict[str, Any] = {}
_UNSET = object()
#: the workers of the run under way (see :func:`use_workers`), else ``settings.workers``
_RUN_WORKERS: contextvars.ContextVar[Any] = contextvars.ContextVar("servicecircle_workers", default=_UNSET)


@contextlib.contextmanager
def use_workers(workers: int | None | object = _UNSET) -> Iterator[None]:
    """Within the block, :func:`workers_for` uses ``workers`` instead of ``settings.workers``.

    With no argument (or the ``_UNSET`` marker) nothing changes; ``None``
    chooses automatically, as ``settings.workers = None`` would.
    """
    if workers is _UNSET:
        yield
        return
    token = _RUN_WORKERS.set(workers)
    try:
        yield
    finally:
        _RUN_WORKERS.reset(token)


def workers_for(work: float, threshold: float = 2e6) -> int:
    """How many processes to use for a job of size ``work`` (e.g. nodes × categories)."""
    want = _RUN_WORKERS.get()
    if want is _UNSET:
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


class Background:
    """Run ``func()`` in a forked process while the caller goes on; :meth:`result` joins it.

    For output writers that hold the GIL (so a thread would not help): the
    child inherits everything in memory, so only the result travels back, with
    the warnings the child raised (re-issued in the parent, so they are counted
    and shown as usual) and its exception, if any (re-raised in the parent: a
    :class:`~servicecircle.errors.ServiceCircleError` as itself, anything else
    as a ``RuntimeError`` carrying the child's traceback). With ``enabled``
    false, or where ``fork`` is missing, ``func`` runs at once in-process.
    Use it as a context manager: leaving the block early stops the child.
    """

    def __init__(self, func: Callable[[], Any], *, enabled: bool = True) -> None:
        self._proc = None
        self._done = False
        self._value: Any = None
        if not enabled or not sys.platform.startswith("linux"):
            self._value = func()
            self._done = True
            return
        ctx = mp.get_context("fork")
        self._conn, child_conn = ctx.Pipe(duplex=False)
        _STATE["background"] = func
        try:
            self._proc = ctx.Process(target=_background_main, args=(child_conn,), daemon=True)
            self._proc.start()
        except OSError:  # cannot fork (memory, process limits): do it here instead
            self._proc = None
            self._value = func()
            self._done = True
        finally:
            _STATE.pop("background", None)
            child_conn.close()

    def result(self) -> Any:
        """Wait for the child; its return value (its warnings re-issued, its error re-raised)."""
        if self._done:
            return self._value
        assert self._proc is not None  # started: not done at once
        try:
            status, value, caught = self._conn.recv()
        except EOFError:
            self._proc.join()
            raise RuntimeError(f"a worker process died (exit code {self._proc.exitcode})") from None
        finally:
            self._done = True
        self._proc.join()
        for message, category in caught:
            warnings.warn(message, category, stacklevel=2)
        if status == "error":
            raise value
        self._value = value
        return value

    def cancel(self) -> None:
        """Stop the child if it is still running."""
        if self._proc is not None and self._proc.is_alive():
            self._proc.terminate()
            self._proc.join()
        self._done = True

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self._done:
            self.cancel()


def _background_main(conn) -> None:
    try:  # die with the parent (Linux): a killed run leaves no writer behind
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    func: Callable[[], Any] = _STATE["background"]
    caught_out: list[Any] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = func()
        caught_out = [(w.message, w.category) for w in caught]
        payload = ("ok", value, caught_out)
    except BaseException as exc:
        from .errors import ServiceCircleError

        if not isinstance(exc, ServiceCircleError):
            exc = RuntimeError(f"in a worker process: {exc!r}\n{traceback.format_exc()}")
        payload = ("error", exc, caught_out)
    try:
        conn.send(payload)
    except Exception:  # an unpicklable warning: send its text instead
        conn.send((payload[0], payload[1], [(str(m), UserWarning) for m, _ in payload[2]]))
    finally:
        conn.close()
        os._exit(0)
