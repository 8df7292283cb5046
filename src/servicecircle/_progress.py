"""Progress bars (tqdm, notebook-aware) with one switch: ``settings.progress``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from . import settings

T = TypeVar("T")


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"
    except Exception:
        return False


def _has_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401

        return True
    except ImportError:
        return False


def enabled(progress: bool | None = None) -> bool:
    """Whether to draw progress bars: the argument, else the setting, else auto."""
    choice = settings.progress if progress is None else progress
    if choice is not None:
        return bool(choice)
    return _in_notebook() or sys.stderr.isatty()


def bar(
    iterable: Iterable[T] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    progress: bool | None = None,
) -> Any:
    """A tqdm bar (``tqdm.auto``: widgets in Jupyter), or a silent stand-in."""
    if not enabled(progress):
        return _Silent(iterable)
    if _in_notebook() and _has_widgets():
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True)


class _Silent:
    """Does what the few tqdm methods we use do, but prints nothing."""

    def __init__(self, iterable: Iterable[Any] | None) -> None:
        self._it = iterable

    def __iter__(self) -> Iterator[Any]:
        return iter(self._it or ())

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None

    def set_description_str(self, desc: str) -> None:
        return None

    def close(self) -> None:
        return None
