"""Exceptions and warnings servicecircle raises about the user's data.

Every problem a planner can fix (a missing column, a layer without a coordinate
system, a typo in a profile) is a :class:`ServiceCircleError`. Its message is
one plain line that names the file, the layer and the feature where it can, says
what is wrong and how to fix it. The command line prints that line and exits
with code 2; anything else is a bug and keeps its traceback (exit code 1).

Problems that can be worked around (a repaired polygon, a dropped Z value, a
point snapped far) are :class:`DataWarning` warnings. They carry the same
fields, show up inline in a notebook, and the pipeline collects them into the
``warnings`` layer and counts them in the summary.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

__all__ = [
    "ServiceCircleError",
    "InputDataError",
    "CRSError",
    "OptionError",
    "NetworkError",
    "ProfileError",
    "OutputError",
    "TooLargeError",
    "DataWarning",
    "warn_data",
    "format_location",
    "source_of",
    "feature_label",
    "WarningLog",
    "collect_warnings",
]


def source_of(gdf: Any) -> tuple[str | None, str | None]:
    """(file, layer) a frame was read from, as the readers record it (``attrs["source"]``, ``attrs["layer"]``)."""
    attrs = getattr(gdf, "attrs", {}) or {}
    return attrs.get("source"), attrs.get("layer")


def feature_label(gdf: Any, position: int, id_column: str | None = None) -> str:
    """How a feature is named in messages: ``#<1-based row>`` and its id if known."""
    label = f"#{position + 1}"
    if id_column and id_column in gdf.columns:
        label += f" ({id_column}={gdf[id_column].iloc[position]})"
    return label


def format_location(file: Any = None, layer: str | None = None, feature: Any = None) -> str:
    """Return ``file[layer] feature <id>`` for the parts that are known."""
    parts = []
    if file is not None:
        parts.append(str(file))
    if layer:
        parts[-1:] = [f"{parts[-1]} [layer {layer}]"] if parts else [f"layer {layer}"]
    if feature is not None:
        parts.append(f"feature {feature}")
    return " ".join(parts)


def _rebuild(cls: type, args: tuple, kwargs: dict[str, Any]) -> Any:
    return cls(*args, **kwargs)


class ServiceCircleError(Exception):
    """A problem with the user's input or settings that the user can fix.

    Parameters
    ----------
    what
        What is wrong, in plain words.
    file, layer, feature
        Where it is, as far as known.
    fix
        How to fix it.
    """

    def __init__(
        self,
        what: str,
        *,
        file: Any = None,
        layer: str | None = None,
        feature: Any = None,
        fix: str | None = None,
    ) -> None:
        self.what = what
        self.file = None if file is None else str(file)
        self.layer = layer
        self.feature = feature
        self.fix = fix
        super().__init__(self.message)

    def __reduce__(self):  # pickled whole (keyword arguments included) across worker processes
        return _rebuild, (
            type(self),
            (self.what,),
            {"file": self.file, "layer": self.layer, "feature": self.feature, "fix": self.fix},
        )

    @property
    def message(self) -> str:
        """The one-line message shown to the user."""
        where = format_location(self.file, self.layer, self.feature)
        text = f"{where}: {self.what}" if where else self.what
        if self.fix:
            text = f"{text}. Fix: {self.fix}"
        return " ".join(text.split())  # always one line


class InputDataError(ServiceCircleError):
    """An input file cannot be read or its content is unusable."""


class OptionError(InputDataError):
    """An option (an argument of ``assess``/``run`` or a command-line flag) has a value that cannot be used."""


class CRSError(InputDataError):
    """A coordinate system is missing, unknown or does not fit the data."""


class NetworkError(ServiceCircleError):
    """The walking network cannot be built from what was given."""


class ProfileError(ServiceCircleError):
    """A standards profile is malformed or refers to something unknown."""


class OutputError(ServiceCircleError):
    """An output cannot be written where it was asked for."""


class TooLargeError(ServiceCircleError):
    """An input is too large to process in the memory this machine has."""


class DataWarning(UserWarning):
    """Something in the data was assumed or repaired; the run went on.

    Attributes
    ----------
    code
        A short stable key (``repaired_geometry``, ``far_snap`` ...), used to
        count warnings in the summary.
    what, file, layer, feature
        As for :class:`ServiceCircleError`.
    count
        How many features the warning stands for.
    """

    def __init__(
        self,
        code: str,
        what: str,
        *,
        file: Any = None,
        layer: str | None = None,
        feature: Any = None,
        count: int = 1,
    ) -> None:
        self.code = code
        self.what = what
        self.file = None if file is None else str(file)
        self.layer = layer
        self.feature = feature
        self.count = int(count)
        if feature is not None and self.count > 1:
            # a warning about many features names the first as an example
            where = format_location(self.file, layer, None)
            what = f"{what} (first: feature {feature})"
        else:
            where = format_location(self.file, layer, feature)
        super().__init__(" ".join((f"{where}: {what}" if where else what).split()))

    def __reduce__(self):
        return _rebuild, (
            type(self),
            (self.code, self.what),
            {"file": self.file, "layer": self.layer, "feature": self.feature, "count": self.count},
        )

    def as_record(self) -> dict[str, Any]:
        """The warning as a row of the ``warnings`` table."""
        return {
            "code": self.code,
            "file": self.file,
            "layer": self.layer,
            "feature": None if self.feature is None else str(self.feature),
            "count": self.count,
            "message": str(self),
        }


def warn_data(
    code: str,
    what: str,
    *,
    file: Any = None,
    layer: str | None = None,
    feature: Any = None,
    count: int = 1,
    stacklevel: int = 2,
) -> None:
    """Issue a :class:`DataWarning`."""
    warnings.warn(
        DataWarning(code, what, file=file, layer=layer, feature=feature, count=count),
        stacklevel=stacklevel + 1,
    )


class WarningLog(list):
    """The :class:`DataWarning` warnings raised while a block ran (see :func:`collect_warnings`)."""

    def to_frame(self):
        """One row per warning: code, file, layer, feature, count, message."""
        import pandas as pd

        cols = ["code", "file", "layer", "feature", "count", "message"]
        return pd.DataFrame([w.as_record() for w in self], columns=cols)


@contextlib.contextmanager
def collect_warnings():
    """Record every :class:`DataWarning` raised inside the block, and still show them.

    >>> with collect_warnings() as log:
    ...     warn_data("demo", "something was assumed")
    >>> log[0].code
    'demo'
    """
    log = WarningLog()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        yield log
    for w in caught:
        if isinstance(w.message, DataWarning):
            log.append(w.message)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
