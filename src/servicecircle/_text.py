"""Words for the messages: one place that says "1 boundary was" and "3 boundaries were"."""

from __future__ import annotations

__all__ = ["counted", "word"]


def word(n: int, one: str, many: str) -> str:
    """``one`` for a count of 1, else ``many``.

    >>> word(1, "community has", "communities have"), word(0, "community has", "communities have")
    ('community has', 'communities have')
    """
    return one if n == 1 else many


def counted(n: int, one: str, many: str) -> str:
    """The count and its word(s).

    >>> counted(1, "boundary was", "boundaries were"), counted(3, "boundary was", "boundaries were")
    ('1 boundary was', '3 boundaries were')
    """
    return f"{n} {word(n, one, many)}"
