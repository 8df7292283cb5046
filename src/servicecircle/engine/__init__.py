"""Distance engine: snapping and exact network distances."""

from .distance import Attachment, DistanceEngine
from .snapping import Snapped, snap_points

__all__ = ["Attachment", "DistanceEngine", "Snapped", "snap_points"]
