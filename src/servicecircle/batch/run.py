"""Many study areas in one run, on ``dask.distributed``: :func:`assess_many`.

One Dask task per area runs what :func:`servicecircle.run` runs, into a temporary
folder beside the area's output folder, and moves it into place with one rename
when everything is written, with ``batch.json`` (what was run, with a fingerprint
of its inputs and settings) inside. So an area's folder is complete or absent:
a task lost with its worker (killed, out of memory) and rerun elsewhere by the
scheduler writes the same folder again, and a second copy of a task that finds
the folder already there with the same fingerprint leaves it alone. A rerun of
the batch skips every area whose folder holds the same fingerprint.

A problem with one area's files or settings is that area's one line in the batch
summary; the other areas go on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import socket
import sys
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import settings
from .._version import __version__
from ..errors import OptionError, ServiceCircleError
from ..options import BatchOptions, Inputs, Options, option_specs
from .manifest import Area, read_manifest

__all__ = ["assess_many", "BatchResult", "area_fingerprint", "run_area"]

AREAS = "areas"
RECORD = "batch.json"
_OPTION_NAMES = set(option_specs(Options))
_INPUT_NAMES = set(option_specs(Inputs))
_BATCH_NAMES = set(option_specs(BatchOptions))


@dataclass
class BatchResult:
    """What :func:`assess_many` did and wrote.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per area: ``status`` (``done``, ``unchanged``: skipped, its
        outputs are those of an earlier run with the same inputs and settings,
        or ``failed`` with its ``error``), the time, the communities, the pass
        rates, the floor-area shortfall, and how its network was cut.
    outputs : dict of str to pathlib.Path
        The merged outputs: ``geopackage`` (``batch.gpkg``), ``parquet`` (the
        GeoParquet dataset, partitioned by area), ``summary``
        (``batch_summary.csv``), ``map`` (``areas_map.html``).
    areas : dict of str to pathlib.Path
        Each area's own output folder.
    dashboard : str or None
        The Dask dashboard's address.
    """

    summary: Any
    outputs: dict[str, Path]
    areas: dict[str, Path] = field(default_factory=dict)
    dashboard: str | None = None

    @property
    def failed(self) -> Any:
        """The rows of the areas that failed."""
        return self.summary[self.summary["status"] == "failed"]

    def __repr__(self) -> str:
        counts = self.summary["status"].value_counts().to_dict() if len(self.summary) else {}
        told = ", ".join(f"{n} {k}" for k, n in counts.items())
        return f"<BatchResult {len(self.summary)} areas ({told}) → {self.outputs.get('geopackage')}>"


# ------------------------------------------------------------------------------------------------ fingerprints
def _digest(path: Path, memo: dict[str, str]) -> str:
    from ..network.cache import file_digest

    key = str(Path(path).resolve())
    if key not in memo:
        p = Path(path)
        if p.is_dir():  # a File Geodatabase: every file in it
            h = hashlib.sha256()
            for f in sorted(q for q in p.rglob("*") if q.is_file()):
                h.update(str(f.relative_to(p)).encode() + b"\0" + file_digest(f).encode())
            memo[key] = h.hexdigest()
        else:
            memo[key] = file_digest(p)
    return memo[key]


def area_fingerprint(area: Area, cut: bool, memo: dict[str, str] | None = None) -> str:
    """A hash of everything an area's outputs depend on: its files' content, its settings, the software.

    Two runs with the same fingerprint write the same outputs; a file edited,
    a setting changed, a profile edited or another servicecircle version all
    change it. Paths do not count, content does.
    """
    from ..network.cache import BUILDER_VERSION
    from ..profiles import Profile, load_profile

    memo = {} if memo is None else memo
    parts: dict[str, Any] = {"servicecircle": __version__, "builder": BUILDER_VERSION, "cut": bool(cut)}
    for f in dataclasses.fields(Inputs):
        value = getattr(area.inputs, f.name)
        if value is not None and option_specs(Inputs)[f.name].kind == "path":
            value = _digest(Path(value), memo)
        parts[f"in.{f.name}"] = None if value is None else str(value)
    parts["area"] = None if area.polygon is None else _digest(area.polygon, memo)
    parts["area_layer"] = area.polygon_layer
    for f in dataclasses.fields(Options):
        if f.name in ("out", "progress", "workers", "profile"):
            continue
        value = getattr(area.options, f.name)
        parts[f"opt.{f.name}"] = None if value is None else repr(value)
    profile = area.options.profile
    profile = profile if isinstance(profile, Profile) else load_profile(profile)
    parts["profile"] = [profile.key, *(_digest(Path(p), memo) for p in profile.files)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _recorded(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) and "fingerprint" in data else None
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------ on a worker
def build_whole(network: str, crs: Any, keep_components: str | None, cache: str) -> dict[str, Any]:
    """Build (or find in the cache) a network many areas are cut from; where it is kept and its CRS."""
    from ..network import load_network

    settings.cache_folder = Path(cache)
    with warnings.catch_warnings():  # what building it warns about is not one area's: see docs/batch.md
        warnings.simplefilter("ignore")
        net = load_network(network, crs=crs, keep_components=keep_components, use_cache=True, progress=False)
    folder, key = net.info["cache_folder"], net.info["cache_key"]
    return {"path": str(Path(folder) / f"{key}.npz"), "key": key, "crs": net.crs.to_wkt(), "nodes": net.n_nodes}


def run_area(
    area: Area, fingerprint: str, out: str, cache: str, whole: dict[str, Any] | None = None, run_id: str = ""
) -> dict[str, Any]:
    """Assess one area and write its outputs into ``out/areas/<id>``, atomically; its summary record.

    Never raises for a problem with the area's data or settings: the record's
    ``status`` is ``failed`` and its ``error`` the one-line message. ``run_id``
    names the batch run: a folder already written by this run (by an earlier
    attempt of the same task) is kept; one of another run is replaced.
    """
    started = time.perf_counter()
    record: dict[str, Any] = {
        "area_id": area.id,
        "area_name": area.name,
        "status": "failed",
        "error": None,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    final = Path(out) / AREAS / area.id
    # made first, named by the process: while it exists this worker is on the area (a killed one leaves it behind)
    tmp = Path(out) / AREAS / f".tmp-{area.id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
        settings.cache_folder = Path(cache)
        settings.progress = False
        settings.workers = 1  # one area per worker process; the cluster is the parallelism
        with warnings.catch_warnings():  # they are in the area's own outputs (its warnings layer), counted
            warnings.simplefilter("ignore")
            record.update(_assess_area(area, whole, tmp))
        record["status"] = "done"
        record["seconds"] = round(time.perf_counter() - started, 3)
        (tmp / RECORD).write_text(
            json.dumps(
                {"fingerprint": fingerprint, "run": run_id, "record": record}, ensure_ascii=False, indent=1, default=str
            ),
            encoding="utf-8",
        )
        _publish(tmp, final, fingerprint, run_id)
    except ServiceCircleError as exc:
        record["error"] = exc.message
    except Exception as exc:  # a bug, or a library's own error on this area's data: its line, not the batch's end
        record["error"] = " ".join(f"{type(exc).__name__}: {exc}".split())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    record.setdefault("seconds", round(time.perf_counter() - started, 3))
    return record


def _assess_area(area: Area, whole: dict[str, Any] | None, tmp: Path) -> dict[str, Any]:
    from ..pipeline import _assess, _check_up_front, save

    opts = _check_up_front(area.options.replace(out=tmp, progress=False, workers=1))
    inputs = area.inputs
    keep_within = None
    cut: dict[str, Any] = {"cut": False}
    if whole is not None:
        import pyproj

        from ..inputs import read_boundaries, read_layer
        from .cut import area_core, cut_file, cut_margin

        assert inputs.boundaries is not None  # checked by the manifest
        comm = read_boundaries(
            inputs.boundaries, layer=inputs.boundaries_layer, crs=inputs.boundaries_crs, id_column=opts.id_column
        )
        polygon = read_layer(area.polygon, layer=area.polygon_layer) if area.polygon is not None else None
        crs = pyproj.CRS.from_wkt(whole["crs"])
        margin, radius = cut_margin(opts)
        core = area_core(comm, polygon, crs)
        reach = core
        if inputs.greenspace is not None:  # a kept green space is entered where streets cross its edge: keep them
            from ..pipeline import _near

            green = read_layer(inputs.greenspace, layer=inputs.greenspace_layer)
            kept = _near(green, core, crs, radius, by="category", closure=True)
            reach = area_core(kept, polygon=None, crs=crs).union(core) if len(kept) else core
        inputs = inputs.replace(network=cut_file(whole["path"], whole["key"], reach, margin))
        keep_within = (core, crs, radius)
        cut = {"cut": True, "cut_margin_m": margin, "cut_radius_m": radius}
    result = _assess(inputs, opts, keep_within=keep_within)
    save(result, opts)
    net = result.network
    info = net.info.get("cut") or {}
    if cut["cut"]:
        cut.update(network_nodes_whole=info.get("nodes_of"), network_km_whole=round(float(info.get("km_of", 0)), 3))
    return {**cut, **_stats(result), "network_nodes": net.n_nodes, "network_km": round(net.total_length / 1000, 3)}


def _stats(result: Any) -> dict[str, Any]:
    """The batch summary's numbers for one assessment (unknown stays unknown, never zero)."""
    import numpy as np
    import pandas as pd

    s, comm, card = result.summary, result.communities, result.scorecard
    assessed = float(s["communities_assessed"].sum()) if "communities_assessed" in s else 0.0
    passed = float(s["communities_passed"].sum()) if "communities_passed" in s else 0.0
    checks = int((s["communities_assessed"] > 0).sum()) if "communities_assessed" in s else 0
    all_pass = None
    if "checks_failed" in comm and "checks_assessed" in comm:
        judged = comm["checks_assessed"] > 0
        all_pass = int((judged & (comm["checks_failed"] == 0)).sum())
    card_known = card["passed"].dropna() if "passed" in card else pd.Series(dtype=float)
    shortfall = None
    if "fa_shortfall_m2" in comm and comm["fa_shortfall_m2"].notna().any():
        shortfall = float(np.nansum(comm["fa_shortfall_m2"].to_numpy(dtype=float)))
    return {
        "communities": len(comm),
        "checks": checks,
        "check_pass_pct": round(100 * passed / assessed, 3) if assessed else None,
        "communities_all_pass": all_pass,
        "scorecard_targets": len(card_known),
        "scorecard_pass_pct": round(100 * float(np.mean(card_known.astype(float))), 3) if len(card_known) else None,
        "shortfall_m2": shortfall,
        "facilities": len(result.facilities),
        "warnings": len(result.warnings),
    }


def _same(kept: dict[str, Any] | None, fingerprint: str, run_id: str) -> bool:
    return kept is not None and kept["fingerprint"] == fingerprint and kept.get("run") == run_id


def _publish(tmp: Path, final: Path, fingerprint: str, run_id: str) -> None:
    """Move a finished area folder into place with renames; one another attempt of this task wrote first stays."""
    if final.exists():
        if _same(_recorded(final), fingerprint, run_id):
            return  # another attempt of this task finished first: the same outputs, kept once
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
        try:
            os.replace(tmp, final)
        finally:
            shutil.rmtree(old, ignore_errors=True)
        return
    try:
        os.replace(tmp, final)
    except OSError:
        if not _same(_recorded(final), fingerprint, run_id):
            raise


# ------------------------------------------------------------------------------------------------ the batch
def assess_many(
    manifest: Any,
    *,
    client: Any = None,
    options: Options | None = None,
    batch: BatchOptions | None = None,
    quiet: bool = False,
    **keywords: Any,
) -> BatchResult:
    """Assess every study area of a manifest on a Dask cluster and merge the results.

    Parameters
    ----------
    manifest
        A CSV or TOML manifest, or its rows (see :mod:`servicecircle.batch.manifest`).
    client
        A ``dask.distributed.Client`` to run on. Default: the cluster at
        ``scheduler=`` if given, else a ``LocalCluster`` of ``workers``
        processes started (and closed) here.
    options
        :class:`~servicecircle.options.Options` for every area (a row's own
        values come first). ``out`` is the batch's output folder.
    batch
        :class:`~servicecircle.options.BatchOptions`.
    quiet
        Print nothing (no dashboard line, no progress bar).
    **keywords
        Any field of :class:`~servicecircle.options.BatchOptions` (``workers``,
        ``memory_limit``, ``scheduler``, ``cache``, ``force`` ...), of
        :class:`~servicecircle.options.Options` or of
        :class:`~servicecircle.options.Inputs`: the defaults of every area.

    Returns
    -------
    BatchResult

    Raises
    ------
    ServiceCircleError
        A problem with the manifest or an argument, before any area runs.
    """
    b_kw = {k: keywords.pop(k) for k in list(keywords) if k in _BATCH_NAMES}
    bopts = BatchOptions.build(batch, **b_kw)
    opt_kw = {k: keywords.pop(k) for k in list(keywords) if k in _OPTION_NAMES}
    base = Options.build(options, **opt_kw)
    unknown = [k for k in keywords if k not in _INPUT_NAMES]
    if unknown:
        Options.build(None, **{unknown[0]: keywords[unknown[0]]})  # the usual message, with the closest name
    out = Path(base.out).resolve()  # workers elsewhere get absolute paths
    if out.exists() and not out.is_dir():
        raise OptionError(f"out (--out) is a file, not a folder: {out}", fix="give a folder for the batch's outputs")
    progress = False if quiet else base.progress
    given = {} if options is None else {f.name: getattr(options, f.name) for f in dataclasses.fields(Options)}
    given.update(opt_kw)
    defaults = {**keywords, **{k: v for k, v in given.items() if k not in ("out", "progress", "workers")}}
    areas = read_manifest(manifest, defaults)
    _check_cluster_options(bopts, client)
    areas = [_checked(a) for a in areas]
    cache = Path(bopts.cache).resolve() if bopts.cache is not None else out / "cache"

    def say(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr)

    cut_groups = _cut_groups(areas)
    memo: dict[str, str] = {}
    fingerprints = {a.id: area_fingerprint(a, a.id in cut_groups, memo) for a in areas}
    records: dict[str, dict[str, Any]] = {}
    todo: list[Area] = []
    for a in areas:
        kept = _recorded(out / AREAS / a.id)
        if not bopts.force and kept is not None and kept["fingerprint"] == fingerprints[a.id]:
            records[a.id] = {**kept["record"], "area_name": a.name, "status": "unchanged"}
        else:
            todo.append(a)
    if records:
        say(f"{len(records)} of {len(areas)} areas unchanged since their last run: kept (--force reruns them)")
    (out / AREAS).mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    dashboard = None
    if todo:
        dashboard, new = _run_on_cluster(todo, cut_groups, fingerprints, out, cache, bopts, client, progress, say)
        records.update(new)
    for left in (out / AREAS).glob(".*-*"):  # what killed attempts left behind (every task has ended)
        if left.name.startswith((".tmp-", ".old-")):
            shutil.rmtree(left, ignore_errors=True)
    from .merge import merge_outputs

    ordered = [records[a.id] for a in areas]
    summary, outputs = merge_outputs(out, ordered, areas)
    for r in ordered:
        if r["status"] == "failed":
            say(f"area {r['area_id']} ({r['area_name']}) failed: {r['error']}")
    return BatchResult(summary, outputs, {a.id: out / AREAS / a.id for a in areas}, dashboard)


def _checked(area: Area) -> Area:
    """The area with its profile loaded and its options checked as ``run`` checks them, before any work."""
    from ..pipeline import _check_up_front

    try:
        opts = _check_up_front(area.options)
    except ServiceCircleError as exc:
        raise type(exc)(exc.what, file=area.source, feature=area.where, fix=exc.fix) from None
    return dataclasses.replace(area, options=opts)


def _check_cluster_options(bopts: BatchOptions, client: Any) -> None:
    if bopts.memory_limit is not None:
        from dask.utils import parse_bytes

        try:
            parse_bytes(bopts.memory_limit)
        except (ValueError, TypeError):
            raise OptionError(
                f"memory_limit (--memory-limit) must be a size such as 4GB, not {bopts.memory_limit}",
                fix="give a size such as 4GB or 2500MB",
            ) from None
    if bopts.scheduler is not None:
        if client is not None:
            raise OptionError("both a client and a scheduler address are given", fix="give one of them")
        if "://" not in bopts.scheduler or not bopts.scheduler.split("://", 1)[1]:
            raise OptionError(
                f"scheduler (--scheduler) must be an address such as tcp://host:8786, not {bopts.scheduler}",
                fix="give the address the Dask scheduler prints (tcp://HOST:PORT)",
            )
    address = bopts.dashboard_address
    if ":" not in address or not address.rsplit(":", 1)[1].isdigit():
        raise OptionError(
            f"dashboard_address (--dashboard-address) must be [HOST]:PORT, not {address}", fix="give :8787 or :0"
        )


def _cut_groups(areas: list[Area]) -> dict[str, tuple[str, Any, Any]]:
    """Area id → (network file, CRS, components) of the areas cut from a larger network.

    An area is cut when it gives an ``area`` polygon, or when its network file
    is named by other areas too (then it is one large file for all of them).
    """
    users: dict[str, int] = {}
    for a in areas:
        key = str(Path(str(a.inputs.network)).resolve())
        users[key] = users.get(key, 0) + 1
    groups = {}
    for a in areas:
        key = str(Path(str(a.inputs.network)).resolve())
        if a.polygon is not None or users[key] > 1:
            groups[a.id] = (key, a.options.network_crs, a.options.keep_components)
    return groups


def local_cluster_size(workers: int | None, memory_limit: str | None) -> tuple[int, int]:
    """(workers, bytes per worker) of a local cluster: all cores, at least 2 GiB each, unless told."""
    from dask.utils import parse_bytes
    from distributed.system import MEMORY_LIMIT  # the machine's memory, or its container's (cgroups) limit

    total = int(MEMORY_LIMIT)
    if workers is None:
        workers = max(1, min(os.cpu_count() or 1, total // (2 << 30)))
    limit = parse_bytes(memory_limit) if memory_limit is not None else total // workers
    return workers, int(limit)


def _run_on_cluster(
    todo: list[Area],
    cut_groups: dict[str, tuple[str, Any, Any]],
    fingerprints: dict[str, str],
    out: Path,
    cache: Path,
    bopts: BatchOptions,
    client: Any,
    progress: bool | None,
    say: Any,
) -> tuple[str | None, dict[str, dict[str, Any]]]:
    import logging

    from dask.utils import format_bytes
    from distributed import Client, LocalCluster, as_completed

    from .._progress import bar

    own: list[Any] = []
    if client is None and bopts.scheduler is not None:
        try:
            client = Client(bopts.scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise OptionError(
                f"cannot reach the Dask scheduler at {bopts.scheduler} ({' '.join(str(exc).split())})",
                fix="start the scheduler (dask scheduler) and its workers, or check --scheduler",
            ) from None
        own.append(client)
        say(f"Dask: the cluster at {bopts.scheduler}, {len(client.scheduler_info()['workers'])} workers")
    elif client is None:
        n, limit = local_cluster_size(bopts.workers, bopts.memory_limit)
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            memory_limit=limit,
            dashboard_address=bopts.dashboard_address,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        own += [client, cluster]
        say(f"Dask: a local cluster of {n} worker processes, {format_bytes(limit)} memory each")
    dashboard = getattr(client, "dashboard_link", None)
    if dashboard:
        say(f"Dask dashboard 监控面板: {dashboard}")
    records: dict[str, dict[str, Any]] = {}
    run_id = uuid.uuid4().hex
    try:
        wholes: dict[tuple[str, Any, Any], Any] = {}
        futures = {}
        for a in todo:
            whole = None
            if a.id in cut_groups:
                group = cut_groups[a.id]
                if group not in wholes:
                    digest = hashlib.sha256(repr(group).encode()).hexdigest()[:12]
                    wholes[group] = client.submit(
                        build_whole, group[0], group[1], group[2], str(cache), key=f"network-{digest}", pure=False
                    )
                whole = wholes[group]
            fut = client.submit(
                run_area,
                a,
                fingerprints[a.id],
                str(out),
                str(cache),
                whole,
                run_id,
                key=f"area-{a.id}-{fingerprints[a.id][:12]}",
                pure=False,
            )
            futures[fut] = a
        with bar(total=len(futures), desc="areas 研究区", unit="area", progress=progress) as pbar:
            for fut in as_completed(list(futures)):
                a = futures[fut]
                try:
                    rec = fut.result()
                except Exception as exc:  # the task itself was lost: its worker died again and again
                    rec = {"area_id": a.id, "area_name": a.name, "status": "failed", "error": _lost(exc)}
                records[a.id] = rec
                if rec.get("cut"):
                    _say_bar(pbar, say, _cut_line(rec))
                pbar.update()
    finally:
        for thing in own:
            thing.close()
    return dashboard, records


def _say_bar(pbar: Any, say: Any, text: str) -> None:
    writer = getattr(pbar, "write", None)
    if writer is not None:
        writer(text, file=sys.stderr)
    else:
        say(text)


def _cut_line(rec: dict[str, Any]) -> str:
    return (
        f"cut {rec['area_id']} ({rec['area_name']}): {rec.get('network_nodes', 0):,} of "
        f"{rec.get('network_nodes_whole') or 0:,} nodes, {rec.get('cut_margin_m', 0):,.0f} m beyond the area "
        f"({rec.get('cut_radius_m', 0):,.0f} m widest radius + max_snap)"
    )


def _lost(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return (
            "its worker died every time it ran (killed or out of memory). Fix: give the workers more memory "
            "(--memory-limit) or fewer workers per machine"
        )
    return " ".join(f"{name}: {exc}".split())
