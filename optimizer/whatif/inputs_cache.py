"""Validated input tables kept in memory per process, so what-if re-solves on the same data skip loading
and validation (a sweep or frontier worker solves many points on one data set).

An entry is reused only while every source file keeps its size and modification time; the frames are
shared, so callers must not modify them (the pipeline never does: it derives new frames).
"""

from __future__ import annotations

from pathlib import Path

from models.io import InputTables
from models.validation import load_inputs

Signature = tuple[tuple[str, int, int], ...]
"""(file name, size, mtime_ns) of every file the tables may come from."""

_CACHE: dict[Path, tuple[Signature, InputTables]] = {}


def _signature(path: Path) -> Signature:
    if not path.exists():
        return ()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def cached_inputs(path: str | Path) -> InputTables:
    """:func:`models.validation.load_inputs` of ``path``, loaded once per process while the files are unchanged.

    Raises :class:`models.io.InputError` like ``load_inputs`` (a failed load is not cached).
    """
    key = Path(path).resolve()
    signature = _signature(key)
    hit = _CACHE.get(key)
    if hit is not None and signature and hit[0] == signature:
        return hit[1]
    tables = load_inputs(key)
    _CACHE[key] = (signature, tables)
    return tables
