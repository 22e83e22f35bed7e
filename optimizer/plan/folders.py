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
import glob
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from optimizer.solvers.stops import deferred_stop

FolderKind = Literal["plan", "sweep", "frontier", "comparison", "data", "demo", "runs"]
MARKER = ".wfplan"
"""Marker file in every folder wfplan writes: JSON ``{"kind": <FolderKind>}``."""
STAGING_MARKER = ".wfplan-staging"
"""Marker file in a staging folder while it is written: ``<host> <process id>`` of the writer."""
CONTAINERS = ("demo", "sweep", "runs")
"""Kinds of folder whose content is other outputs (``runs``: the versioned run folders of one scenario,
:mod:`optimizer.registry.layout`); any other kind is replaced whole, so nothing may be
written inside it."""
TRANSIENT_PREFIX = f"{MARKER}-"
"""Names wfplan gives its short-lived files in a folder (a marker being written, a write probe, a lock): a
folder holding only such files counts as empty."""
MIN_FREE_BYTES = 50 * 2**20
"""Free space a write needs at least, whatever its size (reports, summaries, the solver's scratch)."""
USER_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR,
                         errno.EISDIR, errno.ENAMETOOLONG, errno.EEXIST, errno.ENOTEMPTY, errno.ENOENT})
"""Operating-system errors that come from the user's environment (disk, permissions, paths), not a bug."""


class OutputFolderError(ValueError):
    """An output folder the tool may not or cannot write; ``str()`` is one line naming the folder."""


def folder_kind(folder: Path) -> str | None:
    """The kind recorded in ``folder``'s marker, or None when it has none (or an unreadable one)."""
    try:
        return str(json.loads((folder / MARKER).read_text(encoding="utf-8"))["kind"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _probe_writable(folder: Path, target: Path) -> None:
    """Create and remove a hidden folder in ``folder``: the only sure test (permissions, read-only mounts)."""
    try:
        probe = tempfile.mkdtemp(prefix=f"{TRANSIENT_PREFIX}probe-", dir=folder)
    except OSError as exc:
        raise OutputFolderError(f"{target}: cannot write in {folder}: {exc.strerror}") from None
    os.rmdir(probe)


def absolute(target: str | Path) -> Path:
    """``target`` as an absolute path with ``.`` and ``..`` folded (symlinks are not followed)."""
    return Path(os.path.abspath(target))


def _refusal(target: Path, kind: FolderKind, protect: Iterable[str | Path]) -> str | None:
    """Why wfplan may not write its ``kind`` of output at ``target`` (absolute), or None."""
    if Path(target).is_symlink() or (target.exists() and not target.is_dir()):
        return "it is a file, not a folder; choose another output folder"
    here = absolute(Path.cwd())
    if here == target or here.is_relative_to(target):
        return "it is the folder you are working in (or holds it); choose a folder inside it"
    for kept in map(absolute, protect):
        if kept == target:
            return "it is the folder of input tables this run reads"
        if kept.is_relative_to(target):
            return f"it holds {kept}, which this run reads"
    for ancestor in target.parents:
        found = folder_kind(ancestor)
        if found is not None and found not in CONTAINERS:
            return f"it lies inside {ancestor}, a {found} wfplan replaces whole"
    if not target.is_dir():
        return None
    try:
        content = sorted(p.name for p in target.iterdir() if not p.name.startswith(TRANSIENT_PREFIX))
    except OSError as exc:
        return f"cannot read the folder: {exc.strerror}"
    found = folder_kind(target)  # read after the listing: a marker another run renames in between is seen
    if found is None and not target.is_dir():
        return None  # another run replaced the folder between the two reads: it is (again) wfplan's
    if content and found is None:
        shown = ", ".join(content[:3]) + (", …" if len(content) > 3 else "")
        older = " (an output of an older wfplan, without the marker this version writes? remove it if so)" if (
            "summary.json" in content or {"data", "plan"} <= set(content)) else ""
        return f"the folder holds files wfplan did not write ({shown}){older}; choose a new or empty folder"
    if content and found != kind:
        return f"the folder holds a {found} written by wfplan, not a {kind}"
    return None


def claim_folder(target: str | Path, kind: FolderKind, needed_bytes: int = 0, protect: Iterable[str | Path] = ()) -> None:
    """Raise :class:`OutputFolderError` unless wfplan may write its ``kind`` of output at ``target`` (see the
    module docstring; also refused: the working folder or one holding it, a folder holding a path of
    ``protect`` (the input tables a run reads), a folder inside an output that is replaced whole) and the
    nearest existing folder above it is writable with ``needed_bytes`` + :data:`MIN_FREE_BYTES` free."""
    shown, target = target, absolute(target)
    why = _refusal(target, kind, protect)
    if why is not None:
        raise OutputFolderError(f"{shown}: refused: {why}")
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputFolderError(f"{shown}: cannot create it: {existing} is a file")
    _probe_writable(existing, target)
    free = shutil.disk_usage(existing).free
    if free < needed_bytes + MIN_FREE_BYTES:
        raise OutputFolderError(
            f"{shown}: not enough free disk space: {free / 2**20:,.0f} MiB free, about "
            f"{(needed_bytes + MIN_FREE_BYTES) / 2**20:,.0f} MiB needed")


def _writer() -> str:
    return f"{socket.gethostname()} {os.getpid()}"


def _dead(writer: str) -> bool:
    """True when ``writer`` (``<host> <pid>``) is a process of this host that no longer runs."""
    host, _, pid = writer.rpartition(" ")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _siblings(target: Path, role: str) -> list[Path]:
    return sorted(target.parent.glob(f"{glob.escape('.' + target.name)}.{role}-*"))


def remove_stale_staging(target: Path) -> list[Path]:
    """Tidy up after killed runs into ``target``: a retired earlier output whose replacement never arrived is
    put back (when ``target`` is missing); staging folders whose writer on this host is gone are removed.
    Returns the folders removed. A folder without wfplan's marker is never touched."""
    for retired in reversed(_siblings(target, "retired")):
        if folder_kind(retired) is None:
            continue
        if not target.exists():
            retired.rename(target)
        else:
            shutil.rmtree(retired, ignore_errors=True)
    removed = []
    for candidate in _siblings(target, "staging"):
        try:
            writer = (candidate / STAGING_MARKER).read_text(encoding="utf-8").strip()
        except (OSError, ValueError):
            continue
        if _dead(writer):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _fresh_folder(target: Path, role: str) -> Path:
    """A new empty hidden folder beside ``target``, readable as the user's umask allows (not only 0700)."""
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.{role}-", dir=target.parent))
    folder.chmod(0o777 & ~_umask())
    return folder


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _mark(folder: Path, kind: FolderKind) -> None:
    """Give ``folder`` the marker of ``kind``, atomically (written beside it, then renamed onto it), so a
    concurrent run never reads a half-written marker and takes the folder for one wfplan did not write."""
    if folder_kind(folder) == kind:
        return
    fd, temporary = tempfile.mkstemp(prefix=f"{MARKER}-", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"kind": kind}) + "\n")
    os.chmod(temporary, 0o666 & ~_umask())
    os.replace(temporary, folder / MARKER)


@contextmanager
def staged_folder(target: str | Path, kind: FolderKind, protect: Iterable[str | Path] = ()) -> Iterator[Path]:
    """Yield a fresh hidden folder beside ``target``; when the block ends without an error it gets the
    ``kind`` marker and replaces ``target`` (checked again with :func:`claim_folder` just before): the earlier
    output is first renamed aside (``.<name>.retired-*``), the new one renamed into place, then the earlier one
    removed; if the second rename fails the earlier output is put back, and if the process is killed between
    the two, the next run puts it back. On an error in the block the staging folder is removed and ``target``
    stays as it was. A stop (Ctrl-C, SIGTERM: :mod:`optimizer.solvers.stops`) once the block has ended waits until the
    folder is in place."""
    shown, target = target, absolute(target)
    claim_folder(shown, kind, protect=protect)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target)
    staging = _fresh_folder(target, "staging")
    try:
        (staging / STAGING_MARKER).write_text(_writer(), encoding="utf-8")
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with deferred_stop():  # Ctrl-C or SIGTERM from here on stops the command once the folder is in place
        try:
            _mark(staging, kind)
            claim_folder(shown, kind, protect=protect)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        retired = None
        if target.exists():
            retired = _fresh_folder(target, "retired")
            target.rename(retired)  # onto an empty folder: an atomic replace
        try:
            staging.rename(target)
        except BaseException:
            if retired is not None:
                retired.rename(target)
            raise
        (target / STAGING_MARKER).unlink()
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)


def owned_folder(target: str | Path, kind: FolderKind) -> Path:
    """Create ``target`` (after :func:`claim_folder`) as a folder of ``kind`` that its content is written
    into directly, for outputs made of other outputs (the demo holds its data and its plan)."""
    claim_folder(target, kind)
    target = absolute(target)
    target.mkdir(parents=True, exist_ok=True)
    _mark(target, kind)
    return target
