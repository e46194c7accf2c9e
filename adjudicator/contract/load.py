"""The input gate: read a claim (file, raw bytes or a parsed dict) into a `Claim` valid under the contract.

Every problem is reported with the field path (`incident.discovered_by`, `losses[2].amount`)
and what was expected; all problems are collected, not just the first. Hostile input is refused
in bounded time and memory (limits.py holds every limit): special files (FIFOs, devices), files and
fields beyond the size limits, nesting beyond the depth limit, YAML aliases expanding beyond the
node budget, duplicate keys (YAML, JSON and JSONL alike), keys that are not text. An error
message quotes at most a short, escaped prefix of a bad value.

The service and the CLI use the same functions: `parse_claim_bytes` for raw bytes (a request body,
a JSONL line), `read_claim_file` for a path, `check_shape` for a dict handed to the Python API.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any, Callable, Literal

import yaml
from pydantic import ValidationError

from . import limits as _limits
from . import yamlsafe
from .claim import Claim
from .wording import pydantic_message
from .limits import Limits
from .text import quote

FILE = "(claim file)"


class ClaimError(ValueError):
    """Invalid claim input. `problems` is a list of (field path, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{path}: {msg}" for path, msg in problems))


def _key(part: object) -> str:
    """A path part as printed: a plain key as is, anything else quoted (short and escaped)."""
    if isinstance(part, str) and len(part) <= _limits.QUOTE_CHARS and part.replace("_", "a").isascii() \
            and part.replace("_", "a").isalnum():
        return part
    return quote(part)


def field_path(loc: tuple) -> str:
    """A pydantic error location as the field path users see: `losses[2].amount`."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + _key(part)
    return out or FILE


def _message(err: dict) -> str:
    return pydantic_message(err)


# --- raw bytes ----------------------------------------------------------------------------------

def parse_claim_bytes(data: bytes, fmt: Literal["json", "yaml"], limits: Limits | None = None) -> dict:
    """A claim's fields from raw bytes (UTF-8 JSON or YAML), every gate check applied: size,
    nesting, aliases, duplicate keys, key types, string sizes. Raise ClaimError."""
    limits = limits or _limits.DEFAULT
    if fmt not in ("json", "yaml"):
        raise ValueError("fmt must be json or yaml")
    if len(data) > limits.max_bytes:
        raise ClaimError([(FILE, f"{len(data):,} bytes; a claim may have at most {limits.max_bytes:,}")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ClaimError([(FILE, f"not UTF-8 text (byte {exc.start:,} is not valid UTF-8)")]) from None
    return parse_claim_text(text, fmt, limits)


def parse_claim_text(text: str, fmt: Literal["json", "yaml"], limits: Limits | None = None) -> dict:
    limits = limits or _limits.DEFAULT
    name = "JSON" if fmt == "json" else "YAML"
    if fmt == "json":
        text = text.removeprefix("\ufeff")   # a byte-order mark, accepted as YAML accepts it
        _json_depth_precheck(text, limits.max_depth)
    try:
        if fmt == "json":
            data = json.loads(text, object_pairs_hook=_no_duplicates)
        else:
            data = yamlsafe.load_claim(text, limits.max_depth, limits.max_nodes)
    except RecursionError:
        raise ClaimError([(FILE, f"not valid {name}: nested too deeply (at most {limits.max_depth} levels)")]) from None
    except yaml.MarkedYAMLError as exc:
        raise ClaimError([(FILE, f"not valid YAML: {_yaml_problem(exc, limits)}")]) from None
    except yaml.reader.ReaderError as exc:   # a character YAML does not allow (NUL, other controls)
        ch = exc.character if isinstance(exc.character, str) else chr(exc.character)
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ClaimError([(FILE, f"not valid YAML: line {line}, column {column}: the character U+{ord(ch):04X} "
                                 "is not allowed in a YAML file")]) from None
    except (ValueError, yaml.YAMLError) as exc:
        what = str(exc)
        if "integer string conversion" in what:  # Python's guard against quadratic int parsing
            what = f"a number with more than {sys.get_int_max_str_digits():,} digits"
        raise ClaimError([(FILE, f"not valid {name}: {_short(what)}")]) from None
    if not isinstance(data, dict):
        raise ClaimError([(FILE, "expected a mapping of fields at the top level")])
    check_shape(data, limits)
    return ShapeChecked(data)


# A string literal or a bracket: the JSON tokens that carry nesting (brackets inside strings do not).
# An unterminated string runs to the end, so no quote is scanned twice: linear in the text.
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)


def _json_depth_precheck(text: str, max_depth: int) -> None:
    """Refuse JSON nested deeper than the gate allows before json.loads sees it: the decoder's
    own guard is the interpreter's recursion limit, which differs between Pythons and callers."""
    depth = 0
    for token in _JSON_NESTING.finditer(text):
        ch = token.group()
        if ch in "[{":
            depth += 1
            if depth > max_depth:
                line = text.count("\n", 0, token.start()) + 1
                raise ClaimError([(FILE, f"not valid JSON: nested deeper than {max_depth} levels (line {line:,})")])
        elif ch in "]}":
            depth -= 1


def _short(text: str, limit: int = 200) -> str:
    return text if text.isprintable() and len(text) <= limit else quote(text, limit, bare=True)


def _yaml_problem(exc: yaml.MarkedYAMLError, limits: Limits) -> str:
    """The problem and where it is, without PyYAML's snippet of the offending line."""
    def at(mark) -> str:
        return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    if "maximum nesting depth" in str(exc.problem):  # libyaml's own limit, met while scanning ahead
        return f"nested deeper than {limits.max_depth} levels" + at(exc.problem_mark)
    parts = [(exc.context, exc.context_mark), (exc.problem, exc.problem_mark)]
    return "; ".join(_short(what) + at(mark) for what, mark in parts if what) or "malformed"


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(f"duplicate key {quote(k)}")
            seen.add(k)
    return out


# --- files --------------------------------------------------------------------------------------

def read_bytes(path: str | os.PathLike, limits: Limits | None = None, what: str = FILE) -> bytes:
    """The bytes of a regular file, at most `limits.max_bytes` of them; special files (FIFOs,
    devices, sockets, directories) are refused without blocking on them."""
    limits = limits or _limits.DEFAULT
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ClaimError([(what, f"cannot read {quote(str(p), 120)}: {exc.strerror}")]) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ClaimError([(what, f"cannot read {quote(str(p), 120)}: it is a folder, not a claim file")])
        if not stat.S_ISREG(st.st_mode):
            raise ClaimError([(what, f"cannot read {quote(str(p), 120)}: not a regular file "
                                     "(a device, FIFO or socket is never a claim file)")])
        if st.st_size > limits.max_bytes:
            raise ClaimError([(what, f"{st.st_size:,} bytes; a claim file may have at most {limits.max_bytes:,}")])
        chunks, size = [], 0
        while size <= limits.max_bytes:
            chunk = os.read(fd, limits.max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limits.max_bytes:
            raise ClaimError([(what, f"more than {limits.max_bytes:,} bytes; a claim file may have at most "
                                     f"{limits.max_bytes:,}")])
        return b"".join(chunks)
    except OSError as exc:
        raise ClaimError([(what, f"cannot read {quote(str(p), 120)}: {exc.strerror}")]) from None
    finally:
        os.close(fd)


def format_of(path: str | os.PathLike) -> Literal["json", "yaml"]:
    return "json" if Path(path).suffix.lower() == ".json" else "yaml"


def read_claim_file(path: str | os.PathLike, limits: Limits | None = None) -> dict:
    p = Path(path)
    data = parse_claim_bytes(read_bytes(p, limits), format_of(p), limits)
    data.setdefault("claim_id", p.stem)
    return data


# --- the shape of parsed data -------------------------------------------------------------------

_PLAIN = frozenset({int, float, bool, type(None), dt.date})
_OTHER_SCALARS = (int, float, dt.date)  # subclasses (IntEnum, a date subclass) are values too


class ShapeChecked(dict):
    """A claim dict that has passed `check_shape` (validate_claim does not walk it again)."""


class _Shape(Exception):
    def __init__(self, message: str):
        self.message, self.path, self.whole = message, [], False


def check_shape(data: Any, limits: Limits | None = None) -> int:
    """Bounds on parsed data before the contract reads it: nesting depth, number of values
    (aliases and shared objects counted each time they appear), string and key sizes, keys that
    are text, only JSON/YAML value types. The walk stops at the depth limit, so its recursion is
    bounded whatever the input (a cyclic dict included). Returns how many values are to spare."""
    limits = limits or _limits.DEFAULT
    max_depth, max_nodes, max_string, max_key = limits.max_depth, limits.max_nodes, limits.max_string, limits.max_key
    budget = [max_nodes]

    def text(value: str) -> None:
        if len(value) > max_string:
            raise _Shape(f"text of {len(value):,} characters; at most {max_string:,}")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Shape("not valid Unicode text (a lone surrogate)") from None

    def walk(value: Any, depth: int) -> None:
        t = type(value)
        if t is dict or t is ShapeChecked:
            items = value.items()
        elif t is list:
            items = enumerate(value)
        elif t is str:
            return text(value)
        elif t in _PLAIN or isinstance(value, _OTHER_SCALARS):
            return None
        elif isinstance(value, dict):  # an OrderedDict or defaultdict from a Python caller
            t, items = dict, value.items()
        elif isinstance(value, (list, tuple)):
            t, items = list, enumerate(value)
        elif isinstance(value, str):
            return text(str(value))
        else:
            raise _Shape(f"unsupported value ({quote(value)}); expected text, a number, true/false, a date, "
                         "a list or a mapping")
        if depth >= max_depth:
            raise _Shape(f"nested deeper than {max_depth} levels")
        budget[0] -= len(value)
        if budget[0] < 0:
            exc = _Shape(f"more than {max_nodes:,} values; no claim is that large")
            exc.whole = True
            raise exc
        for k, v in items:
            if t is not list:
                if type(k) is not str:
                    raise _Shape(f"a key must be text, got {quote(k)}")
                if len(k) > max_key:
                    raise _Shape(f"key {quote(k)} is longer than {max_key} characters (unknown field)")
            tv = type(v)
            if tv in _PLAIN:
                continue
            try:
                if tv is str:
                    text(v)
                else:
                    walk(v, depth + 1)
            except _Shape as exc:
                if len(exc.path) < max_depth:
                    exc.path.append(k)
                raise

    try:
        walk(data, 1)
    except _Shape as exc:
        where = FILE if exc.whole else field_path(tuple(reversed(exc.path)))
        raise ClaimError([(where, exc.message)]) from None
    return budget[0]


# --- the contract -------------------------------------------------------------------------------

def _domain_problems(claim: Claim) -> list[tuple[str, str]]:
    """Checks the schema cannot express on its own: impossible date orders, head counts beyond the
    leak, amounts whose sum leaves the representable range."""
    problems = []
    inc = claim.incident
    if inc.discovered_on < inc.occurred_on:
        problems.append(("incident.discovered_on",
                         f"cannot be before incident.occurred_on ({inc.discovered_on} < {inc.occurred_on})"))
    if inc.claim_made_on is not None and inc.claim_made_on < inc.occurred_on:
        problems.append(("incident.claim_made_on",
                         f"cannot be before incident.occurred_on ({inc.claim_made_on} < {inc.occurred_on})"))
    # a measure that made this leak evident (an apology, a notice) cannot come before it: a year typed
    # wrong would else meet 000 §9 注1 or 004 §5 「保険期間中に」 (second hand-computed round)
    for item, day in sorted((inc.evidence_dates.model_dump() if inc.evidence_dates is not None else {}).items()):
        if day is not None and day < inc.occurred_on:
            problems.append((f"incident.evidence_dates.{item}",
                             f"cannot be before incident.occurred_on ({day} < {inc.occurred_on})"))
    records = inc.leak.personal_records if inc.leak is not None else None
    for i, ln in enumerate(claim.losses):
        if records is not None and ln.persons is not None and ln.persons > records:
            problems.append((f"losses[{i}].persons", f"{ln.persons:,} persons, more than the "
                                                     f"incident.leak.personal_records ({records:,})"))
    total = sum(ln.amount for ln in claim.losses)
    if total > _limits.MAX_INT:
        problems.append(("losses", f"the amounts add up to {total:,} yen, beyond {_limits.MAX_INT:,}"))
    return problems


def validate_claim(source: Any, more_checks: Callable[[Claim], list[tuple[str, str]]] | None = None,
                   limits: Limits | None = None) -> Claim:
    """A claim from a path or a parsed dict, checked against the contract; `more_checks` adds the
    problems only a caller knows (policy/claims.py: the plan catalogue's), reported together.
    Raise ClaimError naming every bad field."""
    if isinstance(source, (str, os.PathLike)):
        data = read_claim_file(source, limits)
    elif isinstance(source, dict):
        data = source
        if type(data) is not ShapeChecked:
            check_shape(data, limits)
    else:
        raise ClaimError([(FILE, f"expected a path or a dict, got {type(source).__name__}")])
    try:
        claim = Claim.model_validate(data)
    except ValidationError as exc:
        raise ClaimError([(field_path(e["loc"]), _message(e)) for e in exc.errors()]) from None
    except RecursionError:  # check_shape bounds the depth; this is the last line of defence
        raise ClaimError([(FILE, "nested too deeply")]) from None
    problems = _domain_problems(claim) + (more_checks(claim) if more_checks else [])
    if problems:
        raise ClaimError(problems)
    return claim


def read_claim_stream(stream, limits: Limits | None = None) -> dict:
    """A claim file from a byte stream (standard input: `adjudicator adjudicate -`), read up to the size
    limit and one byte more, never whole (a stream of /dev/zero must not fill the memory: hostile probe 4);
    JSON when it starts with `{`, else YAML; through the same gate as a file's bytes."""
    limits = limits or _limits.DEFAULT
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise ClaimError([(FILE, f"more than {limits.max_bytes:,} bytes; a claim may have at most {limits.max_bytes:,}")])
    return parse_claim_bytes(data, "json" if data.lstrip().startswith(b"{") else "yaml", limits)


def read_claim_text(text: str, name: str = "-") -> dict:
    """A claim file given as text (standard input: `adjudicator adjudicate -`): JSON when it starts
    with `{`, else YAML; through the same gate as a file's bytes."""
    fmt = "json" if text.lstrip().startswith("{") else "yaml"
    return parse_claim_bytes(text.encode("utf-8", "replace"), fmt)
