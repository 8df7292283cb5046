"""Standards profiles: every planning threshold servicecircle checks, as data.

A *standards profile* is a TOML file that lists the life-circle levels, the
facility categories with their service radii, the green-space and park reach
rules, the community service floor-area rule, the Meishan "6个1" set and other
per-resident indicators, each with the document it comes from and whether the
number has been checked against that document (``confirmed``). No threshold
lives in code: a planner edits or extends a profile to apply local rules.

Shipped profiles (see :func:`list_profiles`):

``meishan``
    The default. Meishan's 14th five-year community plan on top of GB 50180.
``gb50180``
    GB 50180-2018 life-circle levels and facility categories only.
``sichuan``, ``national``
    GB 50180 plus the Sichuan (2021) and State Council (2021) floor-area rules.

The format is described field by field in ``docs/profiles.md``.

The package is divided by task: :mod:`~servicecircle.profiles.model` holds the
records (:class:`Profile`, :class:`Category` ...), :mod:`~servicecircle.profiles.schema`
the format's fields and the checks of one file's values,
:mod:`~servicecircle.profiles.build` the checks across a merged profile and the
building of a :class:`Profile`, and :mod:`~servicecircle.profiles.loader` the
reading of files, ``extends`` and :func:`load_profile`. Everything public is
importable from here.

Loading reads the named file and the files its ``extends`` chain names, nothing
else, and parses them with :mod:`tomllib`, which never executes anything. Every
problem is a :class:`~servicecircle.errors.ProfileError` whose one-line message
names the file, the table and field, and the fix.

Examples
--------
>>> from servicecircle.profiles import load_profile
>>> p = load_profile()                       # the Meishan default
>>> p.categories["kindergarten"].radius_m
300.0
>>> p.category_for("托儿所").key
'nursery'
>>> p.thresholds("kindergarten")             # its radius and the 6个1 radius
(300.0, 500.0)
"""

from __future__ import annotations

from .loader import DEFAULT_PROFILE, list_profiles, load_profile
from .model import (
    Category,
    CompoundRule,
    FloorAreaRule,
    GreenRule,
    Indicator,
    Level,
    Profile,
    SixOnesItem,
    show_invisible,
)
from .schema import ATTRIBUTES, MEASURES, SCHEMA

__all__ = [
    "SCHEMA",
    "Level",
    "Category",
    "GreenRule",
    "FloorAreaRule",
    "CompoundRule",
    "SixOnesItem",
    "Indicator",
    "Profile",
    "show_invisible",
    "load_profile",
    "list_profiles",
    "DEFAULT_PROFILE",
    "MEASURES",
    "ATTRIBUTES",
]
