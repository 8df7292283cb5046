"""OSM files as files: which names are OSM, and what is wrong with one that cannot be read.

Shared by the walking network (:mod:`servicecircle.network.osm`) and the OSM
facility reader (:mod:`servicecircle.inputs.osm_features`), so neither needs the other.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["OSM_SUFFIXES", "is_osm_file", "osm_file_problem"]

#: File names libosmium reads (it picks the format from the name).
OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf", ".xml", ".xml.gz", ".xml.bz2")


def is_osm_file(path: str | Path) -> bool:
    """Whether ``path`` has a file name of an OSM XML or PBF file."""
    name = Path(path).name.lower()
    return any(name.endswith(s) for s in OSM_SUFFIXES)


def osm_file_problem(path: Path) -> str:
    """What is wrong with an OSM file libosmium refused, in plain words (not libosmium's)."""
    import bz2
    import gzip
    import zlib

    if path.stat().st_size == 0:
        return "the file is empty (0 bytes)"
    with open(path, "rb") as fh:
        magic = fh.read(3)
    opener = gzip.open if magic[:2] == b"\x1f\x8b" else bz2.open if magic == b"BZh" else open
    head, tail = b"", b""
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                if len(head) < 512:
                    head += chunk[:512]
                tail = (tail + chunk)[-512:]
    except (EOFError, OSError, zlib.error):
        return "the compressed file is cut short or damaged: it cannot be decompressed to its end"
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        if b"<osm" not in head:
            return "it is XML but not OSM XML (it has no <osm> element)"
        if b"</osm>" not in tail:
            return "the OSM XML ends before its closing </osm> tag, so the file is incomplete"
        return "the OSM XML is malformed"
    if path.name.lower().endswith(".pbf"):
        return "the OSM PBF file is damaged or incomplete"
    return "it is neither OSM XML nor OSM PBF"
