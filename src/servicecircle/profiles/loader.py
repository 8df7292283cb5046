"""Reading profile files: shipped names, ``extends`` chains, merging, and :func:`load_profile`.

Loading reads the named file and the files its ``extends`` chain names, nothing
else (each at most ``_MAX_BYTES``), and parses them with :mod:`tomllib`, which
never executes anything.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import replace
from pathlib import Path, PureWindowsPath
from typing import Any

from servicecircle.errors import ProfileError

from .build import _Builder
from .model import Profile, TypeRadius
from .register import load_register_file
from .schema import _check_file, _close, _fail, _show

__all__ = ["DEFAULT_PROFILE", "load_profile", "list_profiles"]

#: The profile :func:`load_profile` returns when given nothing.
DEFAULT_PROFILE = "meishan"

_HERE = Path(__file__).resolve().parent
_MAX_BYTES = 1_000_000  # a profile is a few tens of kB; refuse anything absurd


def _shipped_names() -> list[str]:
    # a *_register.toml file is a profile's indicator register (register_file = ...), not a profile
    return sorted(p.stem for p in _HERE.glob("*.toml") if not p.stem.endswith("_register"))


def list_profiles() -> list[str]:
    """Return the names of the profiles shipped with servicecircle.

    Returns
    -------
    list of str
        Sorted, e.g. ``["gb50180", "meishan", "national", "sichuan", "tdt1062"]``.
    """
    return _shipped_names()


# --------------------------------------------------------------------------- #
# Reading one file
# --------------------------------------------------------------------------- #


def _read(path: Path) -> dict[str, Any]:
    """Read and parse one profile file (and nothing else)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ProfileError(
            "profile file not found",
            file=path,
            fix="check the path, or name a shipped profile: " + ", ".join(_shipped_names()),
        ) from None
    except OSError as exc:
        raise ProfileError(
            f"cannot read the profile: {exc.strerror}", file=path, fix="check the path and its permissions"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise ProfileError("is not a regular file", file=path, fix="give the path of a .toml profile file")
    if st.st_size > _MAX_BYTES:
        raise ProfileError(
            f"is {st.st_size:,} bytes, too large for a profile (limit {_MAX_BYTES:,})",
            file=path,
            fix="give the path of a .toml profile file",
        )
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise ProfileError(
            f"cannot read the profile: {exc.strerror}", file=path, fix="check the path and its permissions"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(
            f"is not UTF-8 text (byte {exc.start} cannot be decoded)",
            file=path,
            fix="save the file as UTF-8 (not GBK)",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(
            f"not valid TOML: {exc}",
            file=path,
            fix="correct the syntax at that line (texts need quotes, tables are written [name])",
        ) from None


# --------------------------------------------------------------------------- #
# extends
# --------------------------------------------------------------------------- #


def _resolve_extends(value: str, file: Path, chain: list[Path]) -> Path:
    shipped = _shipped_names()
    fix_form = (
        f"name a shipped profile ({', '.join(shipped)}) or a .toml file in the "
        'same folder as this file, e.g. extends = "base.toml"'
    )
    win = PureWindowsPath(value)
    if os.path.isabs(value) or win.is_absolute() or win.drive or value.startswith(("/", "\\")):
        raise _fail(file, "", "extends", f"{value!r} is an absolute path", fix_form)
    if "/" in value or "\\" in value:
        raise _fail(file, "", "extends", f"{value!r} contains a path separator", fix_form)
    if ".." in value:
        raise _fail(file, "", "extends", f"{value!r} contains '..'", fix_form)
    if any(ord(ch) < 32 for ch in value):
        raise _fail(file, "", "extends", f"{value!r} contains control characters", fix_form)
    if value.lower().endswith(".toml"):
        target = file.parent / value
        if not target.is_file():
            raise _fail(
                file,
                "",
                "extends",
                f"{value!r} does not exist in {file.parent}",
                f"put {value} next to this file, or name a shipped profile: " + ", ".join(shipped),
            )
    elif value in shipped:
        target = _HERE / f"{value}.toml"
    else:
        close = _close(value, shipped)
        raise _fail(
            file,
            "",
            "extends",
            f"{value!r} is not a shipped profile",
            (f"did you mean '{close}'? " if close else "")
            + f'for a file next to this one write its name with .toml, e.g. extends = "{value}.toml"',
        )
    resolved = target.resolve()
    if resolved in chain:
        names = [p.name for p in chain[chain.index(resolved) :]] + [resolved.name]
        raise _fail(
            file,
            "",
            "extends",
            f"{value!r} makes a cycle: {' -> '.join(names)}",
            "remove extends from one of these files",
        )
    return target


# --------------------------------------------------------------------------- #
# merging
# --------------------------------------------------------------------------- #

# (table path, the field that must cite a change, fields it governs or None for
# every field but names/aliases/check/notes)
_CITED: list[tuple[tuple[str, ...], str, frozenset[str] | None]] = [
    (("levels", "*"), "source", None),
    (("categories", "*"), "source", None),
    (("greenspace", "green"), "source", None),
    (("greenspace", "park"), "source", None),
    (("floor_area",), "source", None),
    (("six_ones",), "source", frozenset({"reach_share"})),
    (("indicators", "*"), "source", None),
    (("greenspace",), "source_per_resident", frozenset({"park_area_per_resident_m2"})),
    (("defaults",), "household_size_source", frozenset({"household_size", "household_size_confirmed"})),
]
_UNCITED = frozenset({"name_zh", "name_en", "aliases", "check", "notes", "source"})


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _expand(data: dict[str, Any], pattern: tuple[str, ...]) -> list[tuple[str, ...]]:
    if "*" not in pattern:
        return [pattern]
    head = pattern[: pattern.index("*")]
    table = _get(data, head)
    return [head + (k,) for k in table] if isinstance(table, dict) else []


def _check_citations(
    parent: dict[str, Any], porigin: dict[tuple[str, ...], Path], child: dict[str, Any], file: Path
) -> None:
    """A child that changes an inherited number must say where the new one comes from."""
    for pattern, cite, governed in _CITED:
        for path in _expand(child, pattern):
            old, new = _get(parent, path), _get(child, path)
            if not isinstance(old, dict) or not isinstance(new, dict) or cite in new:
                continue
            for name, value in new.items():
                if governed is None and (name in _UNCITED or isinstance(value, dict)):
                    continue
                if governed is not None and name not in governed:
                    continue
                if name.endswith("confirmed") and value is False:
                    continue  # downgrading needs no citation
                if name in old and old[name] == value:
                    continue
                label = ".".join(path)
                pfile = porigin.get(path + (name,), porigin.get(path, file))
                was = (
                    f"{_show(old[name])} inherited from {pfile.name}"
                    if name in old
                    else f"the value inherited from {pfile.name} (not set)"
                )
                raise _fail(
                    file,
                    label,
                    name,
                    f"changes {was} to {_show(value)} but this table gives no {cite}",
                    f'add {cite} = "..." to [{label}] saying where {_show(value)} comes from',
                )


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _origins(data: dict[str, Any], file: Path, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Path]:
    out: dict[tuple[str, ...], Path] = {path: file}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_origins(value, file, path + (key,)))
        else:
            out[path + (key,)] = file
    return out


def _load_chain(file: Path, chain: list[Path]) -> tuple[dict[str, Any], dict[tuple[str, ...], Path], list[Path]]:
    data = _read(file)
    _check_file(data, file)
    here = chain + [file.resolve()]
    origins = _origins(data, file)
    if "register_file" in data:  # the plan's indicator register, in a file of its own (profiles/register.py)
        if "register" in data:
            raise _fail(file, "", "register_file", "given with [[register]] rows", "give one or the other")
        data["register"], origins[("register",)] = load_register_file(data.pop("register_file"), file, _read)
    ext = data.pop("extends", None)
    if ext is None:
        return data, origins, [file]
    parent_file = _resolve_extends(ext, file, here)
    pdata, porigin, pfiles = _load_chain(parent_file, here)
    _check_citations(pdata, porigin, data, file)
    return _merge(pdata, data), {**porigin, **origins}, [file, *pfiles]


# --------------------------------------------------------------------------- #
# entry point
# --------------------------------------------------------------------------- #


def load_profile(spec: str | os.PathLike[str] | Profile | None = None) -> Profile:
    """Load and validate a standards profile.

    Parameters
    ----------
    spec : str, path-like, Profile or None
        ``None`` loads the default (``"meishan"``). A shipped profile name
        (``"meishan"``, ``"gb50180"``, ``"sichuan"``, ``"national"``; see
        :func:`list_profiles`) loads that profile. Anything else is the path of
        a ``.toml`` profile file. A :class:`Profile` is returned unchanged.

    Returns
    -------
    Profile

    Raises
    ------
    ProfileError
        For a missing file, a TOML syntax error, an unknown format, an unknown
        or mistyped field, a missing required field, an out-of-range number, a
        reference to an undefined level or category, an alias naming two
        categories, a bad or cyclic ``extends``, or an inherited number changed
        without a source. The message is one line naming the file, the table
        and field, and the fix.

    Notes
    -----
    Only the named file and the files its ``extends`` chain names are read.
    Parsing uses :mod:`tomllib`; nothing in a profile is ever executed.
    """
    if isinstance(spec, Profile):
        return spec
    if spec is None:
        spec = DEFAULT_PROFILE
    shipped = _shipped_names()
    if isinstance(spec, str) and spec.strip().lower() in shipped:
        file = _HERE / f"{spec.strip().lower()}.toml"
    else:
        text = os.fspath(spec)
        if not isinstance(text, str):
            raise ProfileError(f"cannot use {text!r} as a profile", fix="give a profile name or path")
        file = Path(os.path.abspath(text))
        if not os.path.lexists(file) and isinstance(spec, str) and not re.search(r"[/\\.]", spec):
            close = _close(spec.strip().lower(), shipped)
            raise ProfileError(
                f"no profile named {spec!r}",
                fix=(f"did you mean '{close}'? " if close else "")
                + f"Shipped profiles: {', '.join(shipped)}; or give the path of a .toml file",
            )
    data, origins, files = _load_chain(file, [])
    profile = _Builder(data, origins, file, files).build()
    return _with_type_profiles(profile, file) if profile.type_profiles else profile


def _with_type_profiles(profile: Profile, file: Path) -> Profile:
    """Take the categories' numbers of each community type from the profile ``type_profiles`` names.

    For a type *t* mapped to profile *P*: a category both profiles have gets
    *P*'s radius for *t* (unless the profile gives its own ``by_type.t``) when
    *P* has it for *t*, and no longer applies to *t* when *P* has it for other
    types only; one only *P* has is added for the types mapped to *P*; one *P*
    lacks no longer applies to *t* (an urban standard's facility list is not
    the town's). The
    plan's own rules (green space, floor area, 6个1, indicators, targets) stay
    as the profile states them.
    """
    cats = dict(profile.categories)
    by_profile: dict[str, list[str]] = {}
    for ctype, name in profile.type_profiles.items():
        by_profile.setdefault(name, []).append(ctype)
    files = list(profile.files)
    for name, ctypes in by_profile.items():
        if name == profile.key:
            raise ProfileError(
                f"type_profiles names the profile itself ({name!r})", file=file, fix="name another profile"
            )
        other = load_profile(name)
        if other.type_profiles:
            raise ProfileError(
                f"type_profiles: profile {name!r} has type_profiles of its own",
                file=file,
                fix="name a profile without type_profiles",
            )
        files += [f for f in other.files if f not in files]
        for key, cat in list(cats.items()):
            theirs = other.categories.get(key)
            if theirs is None:
                keep = tuple(t for t in cat.applies_to if t not in ctypes)
                cats[key] = replace(cat, applies_to=keep)
                continue
            by_type = dict(cat.by_type)
            applies = list(cat.applies_to)
            for t in ctypes:
                if t in theirs.applies_to:
                    by_type.setdefault(t, TypeRadius(theirs.radius_m, theirs.source, theirs.confirmed, theirs.notes))
                    if t not in applies:
                        applies.append(t)
                elif t in applies:  # the other profile has the category, but not for this type
                    applies.remove(t)
                    by_type.pop(t, None)
            cats[key] = replace(cat, by_type=by_type, applies_to=tuple(applies))
        levels = dict(profile.levels)
        for key, cat in other.categories.items():
            if key in profile.categories:
                continue
            for alias in (cat.key, cat.name_zh, cat.name_en, *cat.aliases):
                owner = profile.category_for(alias)
                if owner is not None:
                    raise ProfileError(
                        f"type_profiles: category {key!r} of profile {name!r} is named {alias!r}, "
                        f"which already names category {owner.key!r}",
                        file=file,
                        fix=f"give [categories.{owner.key}] the category, or remove the alias from one of them",
                    )
            cats[key] = replace(cat, applies_to=tuple(t for t in ctypes if t in cat.applies_to))
            levels.setdefault(cat.level, other.levels[cat.level])
        profile = replace(profile, levels=levels)
    return replace(profile, categories=cats, files=tuple(files))
