"""Files to and from workers that may not see the client's disk.

:class:`FolderCopy` carries the input tables (a folder of files, or one workbook) to the workers: by path when
they share the client's disk, else by value, written once per worker process into its scratch folder (the
Dask worker's ``local_directory``, removed with the worker) under the copy's content digest. A plan folder a
remote worker wrote goes back as ``{relative path: bytes}`` (:func:`pack_folder`) for the client to write
(:func:`unpack_folder`): only the client writes the output folder.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

_MATERIALISED: dict[str, Path] = {}
"""Content digest → where this process wrote that copy."""
_SCRATCH: list[Path] = []


def scratch_folder() -> Path:
    """This process's scratch folder: the Dask worker's ``local_directory`` on a Dask worker, else a temporary
    folder removed when the process exits."""
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory)
    except (ImportError, ValueError):
        if not _SCRATCH:
            _SCRATCH.append(Path(tempfile.mkdtemp(prefix="wfplan-worker-")))
            atexit.register(shutil.rmtree, _SCRATCH[0], True)
        return _SCRATCH[0]


@dataclass(frozen=True)
class FolderCopy:
    """The input tables at ``label`` (the client's path), for a worker: ``files`` None when the workers share
    the client's disk, else every file's name and bytes (``single``: ``label`` is one file, not a folder)."""

    label: str
    files: tuple[tuple[str, bytes], ...] | None = None
    single: bool = False

    @classmethod
    def of(cls, path: str | Path, by_value: bool) -> FolderCopy:
        """The copy of ``path``: its bytes when ``by_value`` (workers elsewhere), else only its path."""
        path = Path(path).resolve()
        if not by_value:
            return cls(str(path))
        files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
        return cls(str(path), tuple((p.name, p.read_bytes()) for p in files), path.is_file())

    @property
    def digest(self) -> str:
        """SHA-256 of the files' names and bytes (16 hex digits)."""
        sha = hashlib.sha256()
        for name, data in self.files or ():
            sha.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return sha.hexdigest()[:16]

    def path(self) -> Path:
        """Where this process reads the tables: ``label`` itself, or this worker's copy of the files (written
        on first use, atomically, so two processes of one worker machine never read a half-written copy)."""
        if self.files is None:
            return Path(self.label)
        digest = self.digest
        if digest not in _MATERIALISED:
            target = scratch_folder() / f"wfplan-inputs-{digest}"
            if not target.exists():
                staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
                for name, data in self.files:
                    (staging / name).write_bytes(data)
                try:
                    os.replace(staging, target)
                except OSError:  # another process of this worker finished the same copy first
                    shutil.rmtree(staging, ignore_errors=True)
            _MATERIALISED[digest] = target
        folder = _MATERIALISED[digest]
        return folder / self.files[0][0] if self.single else folder


def pack_folder(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included), by path relative to it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def unpack_folder(files: dict[str, bytes], folder: Path) -> None:
    """Write :func:`pack_folder`'s ``files`` under ``folder`` (created)."""
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
