"""The drop folder's file moves for `labreport watch`: complete files, claims, resuming, finishing.

Layout under OUT_DIR (which must be on the inbox's file system, so every move is one atomic rename):
- ``processing/<watcher>/<claim>/<final name>``: a claimed file, with ``.claim.json`` (its name, attempts)
- ``done/<name>`` with ``results/<name>.json``; ``failed/<name>`` with ``failed/<name>.error.json``
- ``.labreport/lock`` held for a moment while a name is chosen or claims are adopted
- ``.labreport/watchers/<watcher>.lock`` held (flock) by each live watcher for its whole life

Guarantees, and how:
- Complete files only: a file is taken when its size and mtime have not changed for ``settle`` seconds (five
  times that for an empty file) and no process on this host has it open for writing (/proc); temporary and
  partial names (``.*``, ``~*``, ``*.part``, ``*.tmp``, ``*.crdownload``, ``*.partial``...) are never taken.
- Exactly one watcher takes a file: the claim is an ``os.rename`` out of the inbox, which only one can win.
- No collisions over time: the final name is chosen under the lock, free in done/ and failed/ and among all
  claims; a second ``x.pdf`` becomes ``x~2.pdf``. Claims live in their own folder named by a unique token.
- Nothing lost on SIGKILL: a dead watcher's flock is released by the kernel; the next watcher to look (at
  start, then every rescan) takes the lock file, renames the dead watcher's claim folders into its own and
  processes them again. The store is idempotent by sha256, every JSON write is atomic and the final move is
  one rename, so a file interrupted at any point is neither lost nor stored twice. A file interrupted ``max_attempts``
  times is failed with that reason instead of crashing watchers forever.
- The source bytes are never modified: the file is only opened for reading and only ever renamed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline import filework
from pipeline.errors import ExitCode, LabreportError

log = logging.getLogger(__name__)

IGNORED_SUFFIXES = (".part", ".tmp", ".temp", ".crdownload", ".partial", ".download", ".filepart", ".swp")
CLAIM_INFO = ".claim.json"
STALE_TEMPORARY_SECONDS = 600


class InboxError(LabreportError):
    exit_code = ExitCode.USAGE
    code = "inbox_unusable"


class ClaimInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    claimed_at: str
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Claim:
    """A file this watcher holds in processing/, under the name it will have in done/ or failed/."""

    file: Path
    name: str
    """The file's name in the inbox."""

    @property
    def token(self) -> str:
        return self.file.parent.name


def is_ignored(name: str) -> bool:
    """Hidden, temporary and partial names that writers use before the file is complete."""
    lowered = name.lower()
    return name.startswith((".", "~")) or lowered.endswith(IGNORED_SUFFIXES)


def scan(inbox: Path, exclude: Iterable[Path] = ()) -> Iterator[tuple[Path, os.stat_result]]:
    """Every non-ignored entry below `inbox` that is not a folder, with its lstat (links are not followed)."""
    skip = {p.resolve() for p in exclude}
    stack = [inbox]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            if is_ignored(entry.name):
                continue
            path = Path(entry.path)
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                if path.resolve() not in skip:
                    stack.append(path)
                continue
            yield path, st


def open_for_writing(paths: Iterable[Path]) -> set[Path]:
    """Those of `paths` that a process on this host holds open for writing (Linux /proc; same user only)."""
    wanted = {os.path.realpath(p): p for p in paths}
    found: set[Path] = set()
    if not wanted or not os.path.isdir("/proc/self/fd"):
        return found
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target in wanted and _writing(pid, fd):
                found.add(wanted[target])
    return found


def _writing(pid: str, fd: str) -> bool:
    try:
        info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
    except OSError:
        return False
    for line in info.splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & (os.O_WRONLY | os.O_RDWR) != 0
    return False


class Stability:
    """Remembers each inbox file's size and mtime; a file is stable once they stopped changing long enough."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}

    def stable(self, path: Path, st: os.stat_result, now: float) -> bool:
        key = (st.st_size, st.st_mtime_ns)
        seen = self._seen.get(path)
        if seen is None or seen[0] != key:
            self._seen[path] = (key, now)
            return False
        wait = self.settle * (5 if st.st_size == 0 else 1)  # an empty file may be a writer that has not started
        return now - seen[1] >= wait

    def restart(self, path: Path, now: float) -> None:
        """Start the settle time again (a writer still holds the file)."""
        if path in self._seen:
            self._seen[path] = (self._seen[path][0], now)

    def keep_only(self, present: set[Path]) -> None:
        for path in set(self._seen) - present:
            del self._seen[path]

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)


def _token() -> str:
    """Unique and time-ordered: claims of one watcher are resumed in the order they were made."""
    return f"{time.time_ns():x}-{secrets.token_hex(3)}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Inbox:
    """One watcher's view of the inbox and OUT_DIR: claims, adoption of dead watchers' claims, attempts."""

    def __init__(self, inbox: Path, out_dir: Path) -> None:
        self.inbox = inbox.resolve()
        self.out_dir = out_dir.resolve()
        if self.inbox == self.out_dir or any(
            self.inbox.is_relative_to(self.out_dir / part) for part in ("processing", "done", "failed", "results")
        ):
            raise InboxError(f"{inbox}: the inbox must not be OUT_DIR or one of its folders")
        if not self.inbox.is_dir():
            raise InboxError(f"{inbox}: not a folder")
        self.processing = self.out_dir / "processing"
        self.done = self.out_dir / "done"
        self.failed = self.out_dir / "failed"
        self.results = self.out_dir / "results"
        self.meta = self.out_dir / ".labreport"
        self.watchers = self.meta / "watchers"
        for folder in (self.processing, self.done, self.failed, self.results, self.watchers):
            folder.mkdir(parents=True, exist_ok=True)
        self.id = f"w{os.getpid()}-{secrets.token_hex(4)}"
        self._alive: int | None = self._hold_liveness_lock()
        self.mine = self.processing / self.id
        self.mine.mkdir()
        self._probe_same_filesystem()
        self._sweep_temporary_files()

    def _hold_liveness_lock(self) -> int:
        """Create our lock file already locked (locked temp file renamed in), so no one sees it unlocked."""
        tmp = self.watchers / f".{self.id}.tmp"
        fd = filework.try_lock(tmp)
        if fd is None:
            raise InboxError(f"{tmp}: cannot lock")
        os.rename(tmp, self.watchers / f"{self.id}.lock")
        return fd

    def _probe_same_filesystem(self) -> None:
        """Claims are renames out of the inbox: refuse OUT_DIR on another file system or a read-only inbox."""
        probe = self.inbox / f".labreport-probe-{self.id}"
        try:
            probe.write_bytes(b"")
            os.rename(probe, self.mine / probe.name)
            (self.mine / probe.name).unlink()
        except OSError as exc:
            with contextlib.suppress(OSError):
                probe.unlink()
            self.close()
            raise InboxError(
                f"cannot move files from {self.inbox} into {self.processing} ({exc.strerror}): the inbox "
                "must be writable and OUT_DIR on its file system (put OUT_DIR beside the inbox, on one share)"
            ) from exc

    def _sweep_temporary_files(self) -> None:
        """Remove temporary JSON files that writers killed long ago left behind (live writers' are recent)."""
        cutoff = time.time() - STALE_TEMPORARY_SECONDS
        for folder in (self.results, self.failed, self.processing):
            for tmp in folder.rglob(".tmp-*.part"):
                with contextlib.suppress(OSError):
                    if tmp.stat().st_mtime < cutoff:
                        tmp.unlink()

    def close(self) -> None:
        """Give up this watcher's claims to whoever looks next, and release its liveness lock."""
        with contextlib.suppress(OSError):
            self.mine.rmdir()  # only when empty: unfinished claims stay for adoption
        if self._alive is not None:
            with contextlib.suppress(OSError):
                if not self.mine.exists():
                    (self.watchers / f"{self.id}.lock").unlink()
            filework.unlock(self._alive)
            self._alive = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = filework.lock(self.meta / "lock")
        try:
            yield
        finally:
            filework.unlock(fd)

    # ----------------------------------------------------------------------------------------------
    # Claiming

    def _claimed_names(self) -> set[str]:
        names: set[str] = set()
        for watcher in self.processing.iterdir():
            with contextlib.suppress(OSError):
                for claim in watcher.iterdir():
                    names.update(e.name for e in claim.iterdir() if not e.name.startswith("."))
        return names

    def taken(self, name: str) -> bool:
        return any(
            os.path.lexists(p)
            for p in (
                self.done / name,
                self.failed / name,
                self.failed / f"{name}.error.json",
                self.results / f"{name}.json",
            )
        )

    def _free_name(self, name: str) -> str:
        claimed = self._claimed_names()
        stem, suffix = Path(name).stem, Path(name).suffix
        candidate, n = name, 1
        while candidate in claimed or self.taken(candidate):
            n += 1
            candidate = f"{stem}~{n}{suffix}"
        return candidate

    def claim(self, path: Path) -> Claim | None:
        """Move one inbox file into processing/ under its final name; None when another watcher was faster."""
        folder = self.mine / _token()
        with self._locked():
            final = self._free_name(path.name)
            try:
                folder.mkdir(parents=True)
                info = ClaimInfo(name=filework.printable(path.name), claimed_at=_now())
                filework.write_json(folder / CLAIM_INFO, info)
                os.rename(path, folder / final)
            except OSError as exc:  # another watcher was faster (ENOENT), or a full disk, or permissions
                shutil.rmtree(folder, ignore_errors=True)
                if not isinstance(exc, FileNotFoundError):
                    log.warning("could not claim an inbox file (%s)", exc.strerror)
                return None
        log.debug("claimed %s as %s", path.name, folder.name)
        return Claim(file=folder / final, name=path.name)

    def _claim_in(self, folder: Path) -> Claim | None:
        """The claim held in a claim folder; a folder whose file already moved on is removed."""
        files = [e for e in folder.iterdir() if not e.name.startswith(".")]
        if not files:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        info = read_info(folder)
        return Claim(file=files[0], name=info.name if info else files[0].name)

    def adopt(self) -> list[Claim]:
        """Take over the claims of watchers that died (their liveness lock is free), oldest first."""
        claims: list[Claim] = []
        with self._locked():
            for watcher in sorted(self.processing.iterdir()):
                if watcher.name == self.id or not watcher.is_dir():
                    continue
                lock_file = self.watchers / f"{watcher.name}.lock"
                held = filework.try_lock(lock_file)
                if held is None:
                    continue  # that watcher is alive
                try:
                    for folder in sorted(watcher.iterdir()):
                        if not folder.is_dir():  # a probe left by a watcher killed while starting
                            folder.unlink()
                            continue
                        target = self.mine / folder.name
                        os.rename(folder, target)
                        claim = self._claim_in(target)
                        if claim is not None:
                            claims.append(claim)
                    watcher.rmdir()
                    lock_file.unlink()
                finally:
                    filework.unlock(held)
            for lock_file in self.watchers.glob("*.lock"):
                if lock_file.stem != self.id and not (self.processing / lock_file.stem).exists():
                    held = filework.try_lock(lock_file, create=False)
                    if held is not None:
                        lock_file.unlink()
                        filework.unlock(held)
        if claims:
            log.info("resuming %d files left in processing/ by a watcher that stopped", len(claims))
        return claims

    def attempt(self, claim: Claim) -> int:
        """Count one more attempt at this claim (before it is started) and return the count."""
        folder = claim.file.parent
        info = read_info(folder) or ClaimInfo(name=filework.printable(claim.name), claimed_at=_now())
        info.attempts += 1
        filework.write_json(folder / CLAIM_INFO, info)
        return info.attempts


def read_info(folder: Path) -> ClaimInfo | None:
    try:
        return ClaimInfo.model_validate_json((folder / CLAIM_INFO).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


# --------------------------------------------------------------------------------------------------
# Finishing (runs in the worker, or in the watcher for files that are never read)


def destination(claim_file: Path, out_dir: Path, ok: bool) -> Path:
    """done/ or failed/ under the reserved name; the claim token is added if something else took that name."""
    name = claim_file.name
    if os.path.lexists(out_dir / "done" / name) or os.path.lexists(out_dir / "failed" / name):
        path = Path(name)
        name = f"{path.stem}~{claim_file.parent.name}{path.suffix}"
    return out_dir / ("done" if ok else "failed") / name


def sidecar(dest: Path) -> Path:
    """results/<name>.json for a done file, failed/<name>.error.json for a failed one."""
    if dest.parent.name == "done":
        return dest.parent.parent / "results" / f"{dest.name}.json"
    return dest.with_name(f"{dest.name}.error.json")


def finish(claim_file: Path, dest: Path, payload: str) -> bool:
    """Write the JSON, then move the file to `dest` (one rename); False if another watcher took the claim."""
    filework.write_text(sidecar(dest), payload)
    try:
        os.rename(claim_file, dest)
    except FileNotFoundError:
        return False  # adopted by another watcher after ours died: it finishes the file
    shutil.rmtree(claim_file.parent, ignore_errors=True)  # only our .claim.json (and a killed write's temp) remain
    return True
