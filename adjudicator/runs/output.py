"""Writing a run's output file safely: a new temporary file in the target's folder (O_EXCL, never
through a symlink), renamed into place only when the run finished; nothing half-written, no file
but the target replaced, never an input overwritten."""
from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO, Iterator

from ..contract.text import quote

CLAIM_SUFFIXES = (".yaml", ".yml", ".json")


class OutputError(ValueError):
    """An output path that cannot or must not be written (`--out: ...`)."""


def check_output(out_path: str | os.PathLike, inputs: list[str | os.PathLike]) -> Path:
    """The output path, refused when it is a folder, its folder does not exist, or it would
    replace an input (the input file itself, or a claim file of an input folder)."""
    out = Path(out_path)
    shown = quote(str(out), 120)
    if out.is_dir():
        raise OutputError(f"{shown} is a folder; name the output file")
    folder = out.parent
    if not folder.is_dir():
        raise OutputError(f"folder of {shown} does not exist")
    target = folder.resolve() / out.name
    for inp in inputs:
        src = Path(inp)
        if _same(out, src) or target == src.resolve():
            raise OutputError(f"{shown} is an input; write the output elsewhere")
        if src.is_dir() and target.parent == src.resolve() and out.suffix.lower() in CLAIM_SUFFIXES:
            raise OutputError(f"{shown} names a claim file of the input folder (an input); write the output elsewhere")
    return out


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@contextlib.contextmanager
def atomic_output(out_path: str | os.PathLike) -> Iterator[IO[str]]:
    """A text file to write the output to; renamed onto `out_path` when the block succeeds,
    removed when it fails. The temporary file is created new (O_CREAT | O_EXCL | O_NOFOLLOW)
    with a random name in the target's folder, so a planted file or symlink is never written
    through; the rename replaces a symlink at the target itself, not what it points to."""
    out = Path(out_path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(16):
        tmp = out.parent / f".{out.name}.{secrets.token_hex(8)}.partial"
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write beside {quote(str(out), 120)}: {exc.strerror}") from None
    else:  # pragma: no cover - 16 collisions of 64 random bits
        raise OutputError(f"cannot create a temporary file beside {quote(str(out), 120)}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
