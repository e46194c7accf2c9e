"""Adjudicate many claims: a folder of claim files or a JSONL file, in input order, one line each.

Workers are processes (the rule engine is serialised per process, see rete.py); each builds its
own engine. Output is the same bytes whatever the number of workers: results are written in input
order and every line is canonical JSON. With a ledger, claims on one policy depend on each other,
so they are adjudicated one after the other in input order.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import stat
import sys
from pathlib import Path
from typing import Iterator

from ..contract import limits as _limits
from ..contract.load import ClaimError, parse_claim_bytes, read_claim_file
from ..contract.text import quote
from ..decide import decide, to_json
from ..engine.rulebook import load_rulebook
from ..policy.catalogue import load_catalogue
from ..policy.claims import parse_claim
from .output import atomic_output, check_output

CLAIM_SUFFIXES = (".yaml", ".yml", ".json")


class InputError(ValueError):
    """The run's input itself (not one claim of it) cannot be read."""


def _claim_files(folder: Path) -> list[Path]:
    return sorted(x for x in folder.iterdir() if x.suffix.lower() in CLAIM_SUFFIXES)


def _open_jsonl(p: Path):
    """A JSONL input opened for reading: a regular file only (a FIFO or /dev/zero never ends)."""
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(f"cannot read {quote(str(p), 120)}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"cannot read {quote(str(p), 120)}: not a regular file or folder")
    return os.fdopen(fd, "rb")


def _jsonl_lines(fh, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) per line; None for a line longer than max_bytes (skipped, bounded memory)."""
    n = 0
    while True:
        line = fh.readline(max_bytes + 1)
        if not line:
            return
        n += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while True:  # skip the rest of the over-long line in bounded chunks
                rest = fh.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield n, None
            continue
        yield n, line


def read_inputs(source: str | os.PathLike) -> Iterator[tuple[str, str, object]]:
    """(label, kind, payload) per claim in input order: kind "file" with a path, "json" with a
    JSONL line's bytes, or "error" with a message (a line too long to read). Parsing happens where
    the claim is adjudicated (in the worker), not here."""
    p = Path(source)
    if p.is_dir():
        for f in _claim_files(p):
            yield f.name, "file", str(f)
        return
    max_bytes = _limits.DEFAULT.max_bytes
    with _open_jsonl(p) as fh:
        for n, line in _jsonl_lines(fh, max_bytes):
            label = f"{p.name}:{n}"
            if line is None:
                yield label, "error", f"line longer than {max_bytes:,} bytes; a claim may have at most {max_bytes:,}"
            elif line.strip():
                yield label, "json", line


def load_input(item: tuple[str, str, object]) -> dict:
    """The claim dict of an input item; ClaimError when it cannot be read."""
    label, kind, payload = item
    if kind == "file":
        return read_claim_file(payload)
    if kind == "error":
        raise ClaimError([("(claim file)", payload)])
    return parse_claim_bytes(payload, "json")


_state: dict = {}


def _init(rules: str | None) -> None:
    _state["catalogue"] = load_catalogue(rules)
    _state["book"] = load_rulebook(rules)


def _error_line(label: str, problems: list) -> str:
    return json.dumps({"source": label, "errors": [{"field": f, "message": m} for f, m in problems]},
                      ensure_ascii=False, separators=(",", ":")) + "\n"


def internal_problem(exc: BaseException) -> list[tuple[str, str]]:
    """A claim that made the engine fail: that claim's error, never the run's end (no stack trace)."""
    return [("(adjudication)", f"this claim could not be adjudicated ({type(exc).__name__}); "
                               "it is reported, the other claims are not affected")]


def adjudicate_one(item: tuple[str, str, object]) -> str:
    """One claim's output line: its decision, or its error line whatever went wrong."""
    try:
        claim = parse_claim(load_input(item), _state["catalogue"])
        return to_json(decide(claim, _state["book"], _state["catalogue"]))
    except ClaimError as exc:
        return _error_line(item[0], exc.problems)
    except Exception as exc:  # noqa: BLE001 - isolation: one claim's failure is that claim's error line
        return _error_line(item[0], internal_problem(exc))


class Progress:
    """A progress bar on stderr when it is a terminal: [#####.....] 45% 4,500/10,000 (12 with errors)."""

    def __init__(self, enabled: bool, total: int | None):
        self.enabled, self.total, self.n, self.bad = enabled, total, 0, 0

    def tick(self, bad: bool) -> None:
        self.n += 1
        self.bad += bad
        if self.enabled and (self.n % 50 == 0 or self.n == self.total):
            self._draw()

    def _draw(self) -> None:
        if self.total:
            done = int(30 * self.n / self.total)
            bar = f"[{'#' * done}{'.' * (30 - done)}] {100 * self.n // self.total:3d}% {self.n:,}/{self.total:,}"
        else:
            bar = f"{self.n:,} claims"
        sys.stderr.write(f"\r{bar} ({self.bad:,} with errors)")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            self._draw()
            sys.stderr.write("\n")


def count_inputs(source: str | os.PathLike) -> int:
    p = Path(source)
    if p.is_dir():
        return len(_claim_files(p))
    with _open_jsonl(p) as fh:
        return sum(1 for _, line in _jsonl_lines(fh, _limits.DEFAULT.max_bytes) if line is None or line.strip())


def run_batch(source: str, out_path: str, workers: int = 1, rules: str | None = None, ledger=None,
              progress: bool | None = None, recorded_by: str | None = None,
              stats: dict | None = None, protected: tuple = ()) -> tuple[int, int]:
    """Returns (claims, claims with errors). Writes to a new temporary file beside out_path, renamed
    onto it at the end (runs/output.py); refuses an output that is an input (OutputError) and an
    input that is neither a folder nor a regular file (InputError). With a ledger, stats gets
    "skipped": claims already recorded with the same input (resume); "kept_partial": the partial
    outputs of killed runs beside out_path, left as they were. protected: (what, path) pairs --out must not
    name (the ledger: runs/output.check_output)."""
    progress = sys.stderr.isatty() if progress is None else progress
    if not Path(source).exists():
        raise InputError(f"{quote(str(source), 120)} does not exist")
    out = check_output(out_path, [source], protected)
    if not Path(source).is_dir():
        _open_jsonl(Path(source)).close()
    bar = Progress(progress, count_inputs(source) if progress else None)
    stats = {} if stats is None else stats
    stats["skipped"], stats["kept_partial"] = 0, sorted(str(p) for p in out.parent.glob(f".{out.name}.*.partial"))
    total = bad = 0
    items = read_inputs(source)
    with atomic_output(out_path) as out:
        if ledger is not None:
            lines = _with_ledger(items, ledger, rules, recorded_by or "batch", stats)
        elif workers <= 1:
            _init(rules)
            lines = map(adjudicate_one, items)
        else:
            # Load the rulebook once, then fork: workers inherit it without re-reading the YAML. The
            # adapter builds a fresh C ruleset in each process (rete.py checks the pid), and the parent
            # never runs the engine here, so no engine state crosses the fork. Elsewhere: spawn.
            _init(rules)
            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            ctx = mp.get_context(method)
            pool = ctx.Pool(workers, initializer=_init if method == "spawn" else None,
                            initargs=(rules,) if method == "spawn" else ())
            lines = pool.imap(adjudicate_one, items, chunksize=512)
        try:
            for group in (lines if ledger is not None else ([line] for line in lines)):
                for line in group:
                    total += 1
                    is_bad = line.startswith('{"source":')
                    bad += is_bad
                    bar.tick(is_bad)
                out.write("".join(group))
                if ledger is not None:  # a committed group reaches the file whole, in one write
                    out.flush()
        finally:
            if ledger is None and workers > 1:
                pool.close()
                pool.join()
    bar.done()
    return total, bad


GROUP_CLAIMS = 256      # claims per ledger transaction (one commit, one fsync) ...
GROUP_SECONDS = 0.25    # ... or fewer, so other writers never wait long for the lock


def _with_ledger(items, ledger, rules, recorded_by: str, stats: dict) -> Iterator[list[str]]:
    """Record claims in input order, in groups: each group is one transaction, and its output lines are
    released only once it has committed (so the output never shows a claim the ledger does not hold).
    A claim already recorded with the same input is not recorded again: its recorded decision is output.
    Yields each committed group's lines."""
    import time

    from ..ledger import LedgerDamaged, LedgerError, LedgerUnavailable

    _init(rules)
    catalogue, book = _state["catalogue"], _state["book"]
    decide_fn = lambda c, note: decide(c, book, catalogue, note)  # noqa: E731
    items = iter(items)
    done = False
    while not done:
        pending: list[str] = []
        started = time.monotonic()
        with ledger.group():
            while len(pending) < GROUP_CLAIMS and time.monotonic() - started < GROUP_SECONDS:
                item = next(items, None)
                if item is None:
                    done = True
                    break
                try:
                    data = load_input(item)
                    claim = parse_claim(data, catalogue)
                    ledger.record(data, claim, catalogue, decide_fn, recorded_by=recorded_by, resume=True)
                    if ledger.last_skipped is not None:
                        stats["skipped"] += 1
                        pending.append(ledger.last_skipped + "\n")
                        continue
                except ClaimError as exc:
                    pending.append(_error_line(item[0], exc.problems))
                    continue
                except (LedgerUnavailable, LedgerDamaged):
                    raise  # not this claim's fault: the group is rolled back, the batch stops (a rerun resumes)
                except LedgerError as exc:
                    field, _, msg = str(exc).partition(": ")
                    pending.append(_error_line(item[0], [(field, msg)]))
                    continue
                except Exception as exc:  # noqa: BLE001 - isolation (issue 14): this claim's error line only
                    pending.append(_error_line(item[0], internal_problem(exc)))
                    continue
                pending.append(ledger.last_decision_json + "\n")  # to_json(decision)'s bytes, as recorded
        yield pending
