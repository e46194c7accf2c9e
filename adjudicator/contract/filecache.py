"""What the project's own files read to (the rulebook, the plan catalogue), kept between processes as
JSON so that one CLI call does not parse and validate every YAML file again (issue 16).

A cache file is named by a key its user computes over everything the read depends on (the files'
paths and bytes, the reading code) and holds the sha256 of its own body: a missing, unreadable,
truncated, edited or foreign file reads as no cache, and the caller reads its files. It sits in the
user's cache folder (`$ADJUDICATOR_CACHE_DIR`, else `$XDG_CACHE_HOME/adjudicator` or
`~/.cache/adjudicator`; `off` turns caching off), written atomically, mode 0600, and is trusted no
further than the user's own files.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

MAX_BYTES = 64 * 1024 * 1024


def cache_dir() -> Path | None:
    env = os.environ.get("ADJUDICATOR_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "no") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "adjudicator"


def read_body(path: Path, header: bytes) -> bytes | None:
    """The body of a cache file written by write_body with this header, or None on any doubt."""
    try:
        with open(path, "rb") as fh:
            blob = fh.read(MAX_BYTES + 1)
        head, digest, body = blob.split(b"\n", 2)
    except (OSError, ValueError):
        return None
    if head + b"\n" != header or hashlib.sha256(body).hexdigest().encode() != digest:
        return None
    return body


def write_body(path: Path, header: bytes, body: bytes, keep: int) -> None:
    """Write atomically (mode 0600); then keep only the newest `keep` files of the same prefix (the
    name up to its first `-`): the rulebooks in use, not every one ever read. A read-only or full disk
    means no cache, never an error."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(header + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
        os.replace(tmp, path)
        prefix = path.name.split("-", 1)[0]
        for old in sorted(path.parent.glob(f"{prefix}-*.json"), key=lambda p: p.stat().st_mtime)[:-keep]:
            old.unlink(missing_ok=True)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def tag(value: Any) -> Any:
    """json.dumps(default=tag): the YAML values JSON lacks (dates, date-times)."""
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"not cached: {type(value).__name__}")


def encode(value: Any) -> Any:
    """What json.dumps(default=tag) writes exactly: besides, a mapping with a key that is not text
    (YAML's `50:` in a premium table) as {"$items": [[key, value], ...]}, where JSON would make the
    key a string."""
    t = type(value)
    if t is dict:
        if all(type(k) is str for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$items": [[encode(k), encode(v)] for k, v in value.items()]}
    if t is list:
        return [encode(v) for v in value]
    return value


def untag(obj: dict) -> Any:
    """json.loads(object_hook=untag): the inverse of tag and encode."""
    if len(obj) == 1:
        if "$date" in obj:
            return dt.date.fromisoformat(obj["$date"])
        if "$datetime" in obj:
            return dt.datetime.fromisoformat(obj["$datetime"])
        if "$items" in obj:
            return {k: v for k, v in obj["$items"]}
    return obj
