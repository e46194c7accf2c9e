"""Writing a run's output file safely: a new temporary file in the target's folder (O_EXCL, never
through a symlink), renamed into place only when the run finished; nothing half-written, no file but
the target replaced, never an input, the ledger or a key overwritten. A symbolic link at the target is
replaced itself, never written through (a link planted at the output's name cannot aim the run at
another file). A FIFO, and a character device named under /dev or /proc (/dev/null, /dev/stdout), is
written in place: renaming over it would replace the device node itself (hostile probe 4)."""
from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import IO, Iterable, Iterator

from ..contract.text import quote

CLAIM_SUFFIXES = (".yaml", ".yml", ".json")
# the files SQLite keeps beside a ledger: writing over any of them damages it
LEDGER_COMPANIONS = ("", "-wal", "-shm", "-journal")


class OutputError(ValueError):
    """An output path that cannot or must not be written (`--out: ...`)."""


def _resolved(out: Path) -> Path:
    """The file `out` names: symbolic links followed (also a link to a link, or a dangling one)."""
    return Path(os.path.realpath(out))


def _system(path: Path) -> bool:
    """A name under /dev or /proc: nothing is ever created or renamed there."""
    return str(path.absolute()).startswith(("/dev/", "/proc/"))


def _in_place(path: Path) -> bool:
    """Written in place, never renamed over: a FIFO the user made (not through a symlink), or whatever
    an existing name under /dev or /proc reaches (/dev/null; /dev/stdout -> a pipe, a tty or the file the
    shell redirected to): nothing is ever created or renamed in those folders."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if stat.S_ISFIFO(mode) and not path.is_symlink():
        return True
    return _system(path) and not stat.S_ISDIR(mode)


def check_output(out_path: str | os.PathLike, inputs: list[str | os.PathLike],
                 protected: Iterable[tuple[str, str | os.PathLike]] = ()) -> Path:
    """The output path as given, refused when what it names (symbolic links followed) is a folder, or
    neither a regular file nor written in place (_in_place), when its folder does not exist, when it is
    a new name under /dev or /proc, when it would replace an input (the input file itself, or a claim
    file of an input folder), or when it is one of the `protected` files: (what it is, path) pairs, e.g.
    ("the ledger", L) — a ledger's -wal, -shm and -journal files included."""
    given = Path(out_path)
    shown = quote(str(given), 120)
    out = _resolved(given)
    if out.is_dir():
        raise OutputError(f"{shown} is a folder; name the output file")
    if not given.parent.is_dir():
        raise OutputError(f"folder of {shown} does not exist")
    if _system(given) and not _in_place(given):
        raise OutputError(f"{shown}: nothing new is written under /dev or /proc; name a file")
    if out.exists() and not out.is_file() and not _in_place(given):
        raise OutputError(f"{shown} is not a regular file (a device, a FIFO behind a link, a socket); name a file")
    for inp in inputs:
        src = Path(inp)
        if _same(out, src) or out == _resolved(src):
            raise OutputError(f"{shown} is an input; write the output elsewhere")
        if src.is_dir() and out.parent == _resolved(src) and out.suffix.lower() in CLAIM_SUFFIXES:
            raise OutputError(f"{shown} names a claim file of the input folder (an input); write the output elsewhere")
    for what, path in protected:
        for companion in (LEDGER_COMPANIONS if what == "the ledger" else ("",)):
            other = Path(str(path) + companion)
            if _same(out, other) or out == _resolved(other):
                raise OutputError(f"{shown} is {what}{' (' + companion + ')' if companion else ''}; "
                                  "write the output elsewhere")
    return given


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@contextlib.contextmanager
def atomic_output(out_path: str | os.PathLike) -> Iterator[IO[str]]:
    """A text file to write the output to; renamed onto `out_path` when the block succeeds, removed
    when it fails. The temporary file is created new (O_CREAT | O_EXCL | O_NOFOLLOW) with a random name
    in the target's folder, so a planted file or symlink is never written through; the rename replaces
    a symlink at the target itself, not what it points to. An existing regular file's permissions are
    kept (a 0600 file stays 0600). A FIFO or a system character device is written in place (_in_place)."""
    out = Path(out_path)
    if _in_place(out):
        try:   # opening it, and every write to it (/dev/full: no space)
            with open(out, "w", encoding="utf-8", newline="\n") as fh:
                yield fh
        except OSError as exc:
            raise OutputError(f"cannot write {quote(str(out_path), 120)}: {exc.strerror}") from None
        return
    try:
        st = os.lstat(out)
        mode = stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None
    except OSError:
        mode = None   # a new file: the umask decides, as for any new file
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(16):
        tmp = out.parent / f".{out.name}.{secrets.token_hex(8)}.partial"
        try:
            fd = os.open(tmp, flags, 0o666 if mode is None else 0o600)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write beside {quote(str(out_path), 120)}: {exc.strerror}") from None
    else:  # pragma: no cover - 16 collisions of 64 random bits
        raise OutputError(f"cannot create a temporary file beside {quote(str(out_path), 120)}")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
