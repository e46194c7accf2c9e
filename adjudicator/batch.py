"""Adjudicate many claims: a folder of claim files or a JSONL file, in input order, one line each.

Workers are processes (the rule engine is serialised per process, see rete.py); each builds its
own engine. Output is the same bytes whatever the number of workers: results are written in input
order and every line is canonical JSON. With a ledger, claims on one policy depend on each other,
so they are adjudicated one after the other in input order.
"""
from __future__ import annotations

import json
import multiprocessing as mp

import orjson
import os
import sys
from pathlib import Path
from typing import Iterator

from .catalogue import load_catalogue
from .decide import decide, to_json
from .load import ClaimError, parse_claim, read_claim_file
from .rulebook import load_rulebook


def read_inputs(source: str | os.PathLike) -> Iterator[tuple[str, str, str]]:
    """(label, kind, payload) per claim in input order: kind "file" with a path, or "json" with a
    JSONL line. Parsing happens where the claim is adjudicated (in the worker), not here."""
    p = Path(source)
    if p.is_dir():
        for f in sorted(x for x in p.iterdir() if x.suffix.lower() in (".yaml", ".yml", ".json")):
            yield f.name, "file", str(f)
    else:
        with open(p, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    yield f"{p.name}:{n}", "json", line


def load_input(item: tuple[str, str, str]) -> dict:
    """The claim dict of an input item; ClaimError when it cannot be read."""
    label, kind, payload = item
    if kind == "file":
        return read_claim_file(payload)
    try:
        data = orjson.loads(payload)
    except ValueError as exc:
        raise ClaimError([("(claim file)", f"not valid JSON: {exc}")]) from None
    if not isinstance(data, dict):
        raise ClaimError([("(claim file)", "expected a JSON object")])
    return data


_state: dict = {}


def _init(rules: str | None) -> None:
    _state["catalogue"] = load_catalogue(rules)
    _state["book"] = load_rulebook(rules)


def _error_line(label: str, problems: list) -> str:
    return json.dumps({"source": label, "errors": [{"field": f, "message": m} for f, m in problems]},
                      ensure_ascii=False, separators=(",", ":")) + "\n"


def adjudicate_one(item: tuple[str, str, str]) -> str:
    try:
        claim = parse_claim(load_input(item), _state["catalogue"])
    except ClaimError as exc:
        return _error_line(item[0], exc.problems)
    return to_json(decide(claim, _state["book"], _state["catalogue"]))


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
        return sum(1 for x in p.iterdir() if x.suffix.lower() in (".yaml", ".yml", ".json"))
    with open(p, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def run_batch(source: str, out_path: str, workers: int = 1, rules: str | None = None, ledger=None,
              progress: bool | None = None) -> tuple[int, int]:
    """Returns (claims, claims with errors). Writes to a temporary file, renamed at the end."""
    progress = sys.stderr.isatty() if progress is None else progress
    bar = Progress(progress, count_inputs(source) if progress else None)
    tmp = Path(str(out_path) + ".partial")
    total = bad = 0
    items = read_inputs(source)
    with open(tmp, "w", encoding="utf-8") as out:
        if ledger is not None:
            lines = _with_ledger(items, ledger, rules)
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
            for line in lines:
                total += 1
                is_bad = line.startswith('{"source":')
                bad += is_bad
                out.write(line)
                bar.tick(is_bad)
        finally:
            if ledger is None and workers > 1:
                pool.close()
                pool.join()
    os.replace(tmp, out_path)
    bar.done()
    return total, bad


def _with_ledger(items, ledger, rules) -> Iterator[str]:
    from .ledger import LedgerError

    _init(rules)
    catalogue, book = _state["catalogue"], _state["book"]
    for item in items:
        try:
            data = load_input(item)
            claim = parse_claim(data, catalogue)
            _, decision = ledger.record(data, claim, catalogue, lambda c, note: decide(c, book, catalogue, note))
        except ClaimError as exc:
            yield _error_line(item[0], exc.problems)
            continue
        except LedgerError as exc:
            field, _, msg = str(exc).partition(": ")
            yield _error_line(item[0], [(field, msg)])
            continue
        yield to_json(decision)
