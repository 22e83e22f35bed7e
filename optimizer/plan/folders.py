"""Which folders the tool may write, and how a finished folder replaces an earlier one.

Every folder wfplan writes (a plan, a sweep, a frontier, a comparison, generated input tables, the demo) holds
a marker file, :data:`MARKER`, naming what it is. An output folder is used only when

- it does not exist yet (it is created, with any missing parents), or
- it is an empty folder, or
- it holds the marker of the same kind: an earlier output of the same command, which it replaces.

Anything else (a file, a folder with other content, the output of another command) is refused with
:class:`OutputFolderError` before any long work starts, so a typing slip in ``--out`` never deletes a
user's documents or input tables. :func:`claim_folder` makes that check, and also proves the parent folder
can be written and has room, so a read-only target or a full disk is found before the solve, not after it.

:func:`staged_folder` writes into a hidden sibling folder, which replaces the target only once everything in
it is written (a failed or killed run never leaves a partial folder and never removes the earlier one).
Staging folders of runs that were killed are removed by the next run into the same target.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

FolderKind = Literal["plan", "sweep", "frontier", "comparison", "data", "demo"]
MARKER = ".wfplan"
"""Marker file in every folder wfplan writes: JSON ``{"kind": <FolderKind>}``."""
STAGING_MARKER = ".wfplan-staging"
"""Marker file in a staging folder while it is written: the writing process's id."""
MIN_FREE_BYTES = 50 * 2**20
"""Free space a write needs at least, whatever its size (reports, summaries, the solver's scratch)."""
USER_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR,
                         errno.EISDIR, errno.ENAMETOOLONG, errno.EEXIST, errno.ENOTEMPTY})
"""Operating-system errors that come from the user's environment (disk, permissions, paths), not a bug."""


class OutputFolderError(ValueError):
    """An output folder the tool may not or cannot write; ``str()`` is one line naming the folder."""


def folder_kind(folder: Path) -> str | None:
    """The kind recorded in ``folder``'s marker, or None when it has none (or an unreadable one)."""
    try:
        return str(json.loads((folder / MARKER).read_text(encoding="utf-8"))["kind"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe_writable(folder: Path, target: Path) -> None:
    """Create and remove a hidden folder in ``folder``: the only sure test (permissions, read-only mounts)."""
    try:
        probe = tempfile.mkdtemp(prefix=".wfplan-probe-", dir=folder)
    except OSError as exc:
        raise OutputFolderError(f"{target}: cannot write in {folder}: {exc.strerror}") from None
    os.rmdir(probe)


def claim_folder(target: str | Path, kind: FolderKind, needed_bytes: int = 0) -> None:
    """Raise :class:`OutputFolderError` unless wfplan may write its ``kind`` of output at ``target`` (see the
    module docstring) and the nearest existing folder above it is writable with ``needed_bytes`` +
    :data:`MIN_FREE_BYTES` free."""
    target = Path(target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputFolderError(f"{target}: refused: it is a file, not a folder; choose another output folder")
    if target.is_dir():
        found = folder_kind(target)
        try:
            content = sorted(p.name for p in target.iterdir())
        except OSError as exc:
            raise OutputFolderError(f"{target}: cannot read the folder: {exc.strerror}") from None
        if content and found is None:
            shown = ", ".join(content[:3]) + (", …" if len(content) > 3 else "")
            raise OutputFolderError(
                f"{target}: refused: the folder holds files wfplan did not write ({shown}); choose a new or "
                "empty folder")
        if content and found != kind:
            raise OutputFolderError(f"{target}: refused: the folder holds a {found} written by wfplan, not a {kind}")
    existing = _nearest_existing(target.parent)
    if not existing.is_dir():
        raise OutputFolderError(f"{target}: cannot create it: {existing} is a file")
    _probe_writable(existing, target)
    free = shutil.disk_usage(existing).free
    if free < needed_bytes + MIN_FREE_BYTES:
        raise OutputFolderError(
            f"{target}: not enough free disk space: {free / 2**20:,.0f} MiB free, about "
            f"{(needed_bytes + MIN_FREE_BYTES) / 2**20:,.0f} MiB needed")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(target: Path) -> list[Path]:
    """Remove the staging folders beside ``target`` left by runs that were killed (their process is gone);
    returns them. A folder without the staging marker is never touched."""
    removed = []
    for candidate in target.parent.glob(f".{target.name}.staging-*"):
        try:
            pid = int((candidate / STAGING_MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _mark(folder: Path, kind: FolderKind) -> None:
    (folder / MARKER).write_text(json.dumps({"kind": kind}) + "\n", encoding="utf-8")


@contextmanager
def staged_folder(target: str | Path, kind: FolderKind) -> Iterator[Path]:
    """Yield a fresh hidden folder beside ``target``; when the block ends without an error it gets the
    ``kind`` marker and replaces ``target`` (checked again with :func:`claim_folder` just before). On an error
    it is removed and ``target`` stays as it was."""
    target = Path(target)
    claim_folder(target, kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    try:
        (staging / STAGING_MARKER).write_text(str(os.getpid()), encoding="utf-8")
        yield staging
        (staging / STAGING_MARKER).unlink()
        _mark(staging, kind)
        claim_folder(target, kind)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backup = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(backup, ignore_errors=True)
        target.rename(backup)
    staging.rename(target)
    shutil.rmtree(backup, ignore_errors=True)


def owned_folder(target: str | Path, kind: FolderKind) -> Path:
    """Create ``target`` (after :func:`claim_folder`) as a folder of ``kind`` that its content is written
    into directly, for outputs made of other outputs (the demo holds its data and its plan)."""
    target = Path(target)
    claim_folder(target, kind)
    target.mkdir(parents=True, exist_ok=True)
    _mark(target, kind)
    return target
