"""What the commands share: input errors (one line per field), the claim file, who records, text
for a terminal, the ledger and the record a command names; the collector's pause at start-up."""
from __future__ import annotations

import argparse
import gc
import os
import sys
import unicodedata

from ..contract.text import quote
from ..contract.wording import word

# The rest is imported by the commands that use it (the contract's pydantic models, the engine, the
# documents, the ledger, the service): `rules check` does not import the decision path, `plans` and
# `--help` import no pydantic, and `adjudicate --format json` no Jinja2, ledger or FastAPI.
# tests/test_startup.py holds this; every module of the cli keeps to it.


def _fail_input(problems: list[tuple[str, str]], lang: str | None = None) -> int:
    """One line per problem: `field.path: what was expected`, in Japanese under `--lang ja`."""
    for path, msg in problems:
        shown = "（請求ファイル）" if lang == "ja" and path == "(claim file)" else path
        print(f"{shown}: {word(msg, lang or 'en')}", file=sys.stderr)
    return 2


def rulebook_problem(folder: str) -> str | None:
    """Why `folder` cannot be a rulebook directory, or None: it must hold rulebook.yaml and
    programmes/ (what the loaders read first), so a wrong folder is bad input, not an internal error."""
    if not os.path.isdir(folder):
        return f"no rulebook directory at {quote(folder)}"
    missing = [name for name, there in (("rulebook.yaml", os.path.isfile), ("programmes/", os.path.isdir))
               if not there(os.path.join(folder, name))]
    return f"{quote(folder)} is not a rulebook directory (no {' or '.join(missing)})" if missing else None


def most_workers() -> int:
    """The most worker processes a command starts: four per CPU (more only queue for the CPUs, and a
    typo like 100000 would try to fork that many)."""
    return 4 * (os.cpu_count() or 1)


def workers_problem(n: int) -> str | None:
    """Why `--workers n` is refused, or None."""
    if n < 1:
        return f"must be at least 1 (got {n})"
    if n > most_workers():
        return f"at most {most_workers()} (4 per CPU, {os.cpu_count() or 1} CPUs here; got {n})"
    return None


def cli_date(value: str, flag: str) -> "dt.date":
    """A date flag: YYYY-MM-DD only (3.11's fromisoformat also reads 20260101 and 2026-W01-1), a real
    day, within the claim file's 1900-01-01 .. 2199-12-31. ValueError names the flag."""
    import datetime as dt
    import re

    from ..contract.limits import DATE_MAX, DATE_MIN
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{flag}: expected a date YYYY-MM-DD, got {quote(value)}") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(f"{flag}: {value} is outside {DATE_MIN} .. {DATE_MAX}")
    return day


def _read_input(name: str) -> dict:
    """A claim file by path, or `-` for standard input (YAML or JSON)."""
    from ..contract.load import read_claim_file, read_claim_stream
    if name == "-":
        return read_claim_stream(sys.stdin.buffer)
    return read_claim_file(name)


def os_account() -> str:
    """The name of the OS account this process runs as, from the account database: never from
    $LOGNAME or $USER, which any caller sets (getpass reads them first: anyone could be anyone,
    and the second review's "not the recording account" meant nothing). A name that is not plain
    printable text (a control or format character from a hand-edited passwd) is the uid."""
    import pwd
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid-{uid}"
    return name if name and name.isprintable() and name.strip() == name else f"uid-{uid}"


def cli_user() -> str:
    """Who records from the command line: cli:<OS account name> (os_account)."""
    return f"cli:{os_account()}"


def _term(text: object) -> str:
    """Text for one terminal line: control and format characters (escape sequences, bidi overrides,
    and newline, carriage return, tab: a value must not start a line of its own in a table) escaped.
    Every caller prints one line; multi-line output is lines each made safe apart."""
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf") else f"\\u{ord(ch):04x}" for ch in str(text))


def _width(text: str) -> int:
    """Columns a text takes on a terminal: East Asian wide and fullwidth characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    """Lines of a plain-text table whose columns are as wide as their widest cell (cells already made
    safe with _term); `right`: the columns aligned right (numbers)."""
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            pad = " " * (widths[i] - _width(c)) if i < len(widths) else ""
            out.append(pad + c if i in right else c + pad)
        return "  ".join(out).rstrip()
    return [line(header)] + [line(r) for r in rows]


def _ledger_error(exc: Exception) -> int:
    field, sep, msg = str(exc).partition(": ")
    return _fail_input([(field, msg)] if sep else [("ledger", str(exc))])


def _open_ledger(args: argparse.Namespace, create: bool = False):
    from ..ledger import Ledger
    return Ledger(getattr(args, "ledger", None), create=create)


def _recorded(args: argparse.Namespace):
    """The ledger record named by args.id with the catalogue, rulebook and claim to re-read it,
    or None after reporting that it does not exist."""
    from ..ledger import LedgerError
    try:
        with _open_ledger(args) as ledger:
            rec = ledger.find(seq=args.seq) if args.seq is not None else ledger.find(args.id)
    except LedgerError as exc:
        print(_term(exc), file=sys.stderr)
        return None
    from ..engine.rulebook import load_rulebook
    from ..policy.catalogue import load_catalogue
    from ..policy.claims import parse_claim
    catalogue, book = load_catalogue(args.rules), load_rulebook(args.rules)
    return rec, catalogue, book, parse_claim(rec.effective, catalogue)


# The collector paused through a short command's start-up (main.py says why): main() sets it, the
# two commands that then do real work call _started().
collector_paused = False


def _started() -> None:
    global collector_paused
    if collector_paused:
        collector_paused = False
        gc.freeze()
        gc.enable()
