"""Many study areas in one run, on Dask: a province or the whole country.

:func:`assess_many` (``servicecircle batch``) reads a manifest of study areas
(:mod:`~servicecircle.batch.manifest`), cuts each area's network out of a larger
one where asked (:mod:`~servicecircle.batch.cut`), runs one Dask task per area
(:mod:`~servicecircle.batch.run`) and merges the areas' outputs
(:mod:`~servicecircle.batch.merge`). See docs/batch.md.
"""

from __future__ import annotations

from .manifest import Area, read_manifest
from .run import BatchResult, assess_many

__all__ = ["assess_many", "BatchResult", "Area", "read_manifest"]
