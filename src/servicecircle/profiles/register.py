"""The plan's indicator register: every target of the plan, and which check (if any) assesses it.

A profile may list the numeric targets of the plan it encodes as ``[[register]]``
rows, or name a file of them in the same folder (``register_file =
"meishan_register.toml"``). Each row gives the plan's wording, the 2025 target
(and any 2022 milestone), whether it is binding (约束性) or expected (预期性),
the text as scraped and how it was read, and either the check that assesses it
(``assessed_by``: a key of a check of the profile) or why it cannot be assessed
from spatial data (``not_assessed``) and what data would let it be
(``data_needed``).

:class:`RegisterRow` is the loaded row; :func:`build_register` checks the rows
against the rest of the profile (an ``assessed_by`` must name a check the
profile has); :func:`load_register_file` reads a register file.
:func:`servicecircle.checks.register.register_table` reports every row on every
run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .schema import _ID, _REGISTER_ROW, _TOP, _check_table, _close, _fail, _item_label, _show

if TYPE_CHECKING:  # pragma: no cover
    from .model import Category, GreenRule, Indicator, SixOnesItem

__all__ = ["RegisterRow", "REGISTER_SCHEMA", "PENDING_KINDS", "COMMUNITY_TYPES"]

#: The format identifier of a register file (``register_file = "..."``).
REGISTER_SCHEMA = "servicecircle-register/1"
#: Community types a row may apply to.
COMMUNITY_TYPES = ("urban", "town", "rural")
#: Check kinds a row may name as ``"<kind>.<key>"`` before this version computes them (issue 13): a row
#: naming one whose table the profile does not have is reported "not assessed: kind not available".
PENDING_KINDS = ("counts", "unit_shares", "colocations", "attribute_shares", "facility_minimums")
#: The fields of a register file: a header and ``[[register]]`` rows.
_REGISTER_FILE = {name: _TOP[name] for name in ("schema", "key", "name_zh", "name_en", "source", "notes", "register")}


@dataclass(frozen=True)
class RegisterRow:
    """One target of the plan, and how (or why not) servicecircle assesses it.

    Attributes
    ----------
    key : str
        Unique id of the row (ascii snake_case).
    table : str
        Where the plan states it: ``"专栏1"`` ... or ``"正文"`` (the text).
    group, section : str
        The plan's headings (``"社区发展"``, ``"宜居社区"``).
    name_zh, name_en : str
        The plan's wording and its translation.
    unit : str
        The plan's unit (``"%"``, ``"m2"``, ``"个"`` ...).
    comparison : str
        ``">="``, ``"<="``, ``">"``, ``"<"``, ``"="`` or ``"between"`` (``target_2025`` … ``target_max``).
    target_2025, target_max, target_2022 : float or None
        The 2025 target (the lower end of a range), the upper end, the 2022 milestone.
    binding : str
        ``"约束性"`` (binding), ``"预期性"`` (expected) or ``""`` (a target of the text).
    scale : str
        Where the target is counted: ``"facility"``, ``"compound"``, ``"community"``, ``"township"``,
        ``"county"`` or ``"city"`` (``""``: not said).
    applies_to : tuple of str
        Community types the target is for (empty: every type).
    scraped, reading : str
        The value as the scraped text has it, and how it was read (``"lost ≥: '240' read as ≥ 40"``).
    source : str
    confirmed : bool
        ``False`` where the reading (or the comparison) is a judgement.
    assessed_by : str or None
        The key of the check that assesses it, as written in the profile.
    not_assessed, data_needed : str or None
        Why no check assesses it, and what data would let one.
    notes : str
    check_keys : tuple of str
        The output keys (``check`` / scorecard ``target_key``) the check's results carry.
    pending : str or None
        The check kind ``assessed_by`` names when this version does not compute it (``"counts"`` ...).
    """

    key: str
    table: str
    group: str
    section: str
    name_zh: str
    name_en: str
    unit: str
    comparison: str
    target_2025: float
    target_max: float | None
    target_2022: float | None
    binding: str
    scale: str
    applies_to: tuple[str, ...]
    scraped: str
    reading: str
    source: str
    confirmed: bool
    assessed_by: str | None
    not_assessed: str | None
    data_needed: str | None
    notes: str = ""
    check_keys: tuple[str, ...] = ()
    pending: str | None = None

    @property
    def target_text(self) -> str:
        """The target as the plan states it: ``≥ 40 m2``, ``1500–4000 households``."""
        from .model import _fmt

        if self.comparison == "between":
            return f"{_fmt(self.target_2025)}–{_fmt(self.target_max)} {self.unit}".strip()
        sign = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}[self.comparison]
        return f"{sign} {_fmt(self.target_2025)} {self.unit}".strip()


def check_names(
    categories: Mapping[str, Category],
    green: Mapping[str, GreenRule],
    per_resident: bool,
    floor: bool,
    six_ones: tuple[SixOnesItem, ...],
    indicators: Mapping[str, Indicator],
) -> dict[str, tuple[str, ...]]:
    """Every name an ``assessed_by`` may use → the output keys of that check.

    A category's key; a green rule's key or its reach check's (``green``,
    ``green_reach``); ``park_area_per_resident``; ``floor_area`` and
    ``floor_area_total``; ``six_ones``, a 6个1 item's key or its column
    (``six_childcare``); an indicator's key or its check key
    (``sports_ground_per_resident``, ``ind_sports_ground_per_resident``).
    """
    from ..schema import green_check_key, indicator_column, six_ones_column

    names: dict[str, tuple[str, ...]] = {}
    for key, cat in categories.items():
        if cat.check:
            names[key] = (key,)
    for rule in green:
        names[rule] = names[green_check_key(rule)] = (green_check_key(rule),)
    if per_resident:
        names["park_area_per_resident"] = ("park_area_per_resident",)
    if floor:
        names["floor_area"] = ("floor_area",)
        names["floor_area_total"] = ("floor_area_total",)
    if six_ones:
        names["six_ones"] = ("six_ones",)
        for item in six_ones:
            names.setdefault(item.key, (six_ones_column(item.key),))
            names[six_ones_column(item.key)] = (six_ones_column(item.key),)
    for key in indicators:
        names.setdefault(key, (indicator_column(key),))
        names[indicator_column(key)] = (indicator_column(key),)
    return names


def build_register(
    rows: list[dict[str, Any]],
    where: Callable[[tuple[str, ...]], Path],
    names: Mapping[str, tuple[str, ...]],
    data: Mapping[str, Any],
    categories: Mapping[str, Category],
) -> tuple[RegisterRow, ...]:
    """The register rows, checked against the rest of the profile.

    Parameters
    ----------
    rows
        The merged ``register`` array (each row checked for field names and types already).
    where
        The file a table path comes from (for messages).
    names
        :func:`check_names` of the profile.
    data
        The merged profile (a ``"<kind>.<key>"`` of :data:`PENDING_KINDS` is checked against
        its ``[<kind>]`` table when the profile has one).
    categories
        The profile's categories (to say why a category without pass/fail cannot assess).

    Raises
    ------
    ProfileError
        A missing required field, a duplicate key, both or neither of ``assessed_by`` and
        ``not_assessed``, ``not_assessed`` without ``data_needed``, a bad range or type, or an
        ``assessed_by`` that names no check of the profile.
    """
    path = ("register",)
    out: list[RegisterRow] = []
    seen: set[str] = set()
    for i, e in enumerate(rows, 1):
        label = _item_label("register", e, i)
        file = where(path)
        for name, f in _REGISTER_ROW.items():
            if f.required and name not in e:
                raise _fail(file, label, name, "missing required field", f'add {name} = "..."')
        key = e["key"]
        if not _ID.match(key):
            raise _fail(
                file,
                label,
                "key",
                f"{key!r} is not ascii snake_case",
                "use lowercase ascii letters, digits and _, starting with a letter",
            )
        if key in seen:
            raise _fail(file, label, "key", f"two rows have the key {key!r}", "give each row its own key")
        seen.add(key)
        by, why, needed = e.get("assessed_by"), e.get("not_assessed"), e.get("data_needed")
        if (by is None) == (why is None):
            raise _fail(
                file,
                label,
                None,
                "gives both assessed_by and not_assessed" if by else "gives neither assessed_by nor not_assessed",
                'name the check that assesses the row (assessed_by = "...") or say why none can '
                '(not_assessed = "...", with data_needed = "...")',
            )
        if why is not None and needed is None:
            raise _fail(
                file,
                label,
                "data_needed",
                "missing; required with not_assessed",
                'add data_needed = "..." saying what data would let the row be assessed',
            )
        vmax = e.get("target_max")
        if e["comparison"] == "between":
            if vmax is None:
                raise _fail(
                    file,
                    label,
                    "target_max",
                    'missing; required when comparison = "between"',
                    "add target_max = the upper end",
                )
            if vmax <= e["target_2025"]:
                raise _fail(
                    file,
                    label,
                    "target_max",
                    f"must be greater than target_2025 ({_show(e['target_2025'])}), got {_show(vmax)}",
                    "give the range as target_2025 = low, target_max = high",
                )
        elif vmax is not None:
            raise _fail(
                file,
                label,
                "target_max",
                f'only used with comparison = "between", not {e["comparison"]!r}',
                'remove target_max or write comparison = "between"',
            )
        types = e.get("applies_to", [])
        for t in types:
            if t not in COMMUNITY_TYPES:
                close = _close(t, COMMUNITY_TYPES)
                raise _fail(
                    file,
                    label,
                    "applies_to",
                    f"{t!r} is not a community type",
                    f"did you mean '{close}'?" if close else f"use {', '.join(COMMUNITY_TYPES)}",
                )
        keys: tuple[str, ...] = ()
        pending = None
        if by is not None:
            keys, pending = _resolve(by, names, data, categories, file, label)
        out.append(
            RegisterRow(
                key=key,
                table=e["table"],
                group=e.get("group", ""),
                section=e["section"],
                name_zh=e["name_zh"],
                name_en=e["name_en"],
                unit=e["unit"],
                comparison=e["comparison"],
                target_2025=float(e["target_2025"]),
                target_max=None if vmax is None else float(vmax),
                target_2022=None if e.get("target_2022") is None else float(e["target_2022"]),
                binding=e.get("binding", ""),
                scale=e.get("scale", ""),
                applies_to=tuple(dict.fromkeys(types)),
                scraped=e["scraped"],
                reading=e["reading"],
                source=e["source"],
                confirmed=e.get("confirmed", True),
                assessed_by=by,
                not_assessed=why,
                data_needed=needed,
                notes=e.get("notes", ""),
                check_keys=keys,
                pending=pending,
            )
        )
    return tuple(out)


def _resolve(
    by: str,
    names: Mapping[str, tuple[str, ...]],
    data: Mapping[str, Any],
    categories: Mapping[str, Category],
    file: Path,
    label: str,
) -> tuple[tuple[str, ...], str | None]:
    """The output keys ``assessed_by`` stands for, and the pending check kind if this version lacks it."""
    if by in names:
        return names[by], None
    kind, dot, rest = by.partition(".")
    if dot and kind in PENDING_KINDS and _ID.match(rest):
        table = data.get(kind)
        if not isinstance(table, dict):  # a check kind this version (or this profile) does not have yet
            return (by, rest), kind
        if rest in table:
            return (by, rest), None
        close = _close(rest, table)
        raise _fail(
            file,
            label,
            "assessed_by",
            f"{by!r}: the profile has no [{kind}.{rest}]",
            f"did you mean '{kind}.{close}'?" if close else f"use one of the [{kind}.<key>] tables of the profile",
        )
    if by in categories:
        raise _fail(
            file,
            label,
            "assessed_by",
            f"category {by!r} has check = false: it gives no pass/fail to report",
            "name another check, or give the row not_assessed and data_needed",
        )
    close = _close(by, names)
    raise _fail(
        file,
        label,
        "assessed_by",
        f"{by!r} is not a check of the profile",
        f"did you mean '{close}'?"
        if close
        else "name a category, a green rule, floor_area, six_ones, a 6个1 item or an indicator of the profile",
    )


def load_register_file(value: str, file: Path, read: Callable[[Path], dict[str, Any]]) -> tuple[list[Any], Path]:
    """Read the register file ``register_file = value`` of profile ``file`` names.

    The file must be in the same folder as the profile (no path separators, no
    ``..``), end in ``.toml``, declare ``schema = "servicecircle-register/1"``,
    give ``key``, ``name_zh``, ``name_en`` and ``source``, and hold
    ``[[register]]`` rows only.

    Returns
    -------
    tuple
        The rows (checked for field names and types) and the register file's path.
    """
    fix_form = 'name a .toml file in the same folder as the profile, e.g. register_file = "mycity_register.toml"'
    if os.path.isabs(value) or "/" in value or "\\" in value or ".." in value or not value.lower().endswith(".toml"):
        raise _fail(file, "", "register_file", f"{value!r} is not a .toml file name in this folder", fix_form)
    target = file.parent / value
    if not target.is_file():
        raise _fail(file, "", "register_file", f"{value!r} does not exist in {file.parent}", fix_form)
    data = read(target)
    if data.get("schema") != REGISTER_SCHEMA:
        got = "missing" if "schema" not in data else f"unknown format {_show(data['schema'])}"
        raise _fail(target, "", "schema", got, f'a register file declares schema = "{REGISTER_SCHEMA}"')
    _check_table(data, _REGISTER_FILE, target, "")
    for name in ("key", "name_zh", "name_en", "source", "register"):
        if name not in data:
            raise _fail(target, "", name, "missing required field", f"add {name} (every register file gives its own)")
    rows: list[Any] = data["register"]
    return rows, target
