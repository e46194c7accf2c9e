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
import sys
from pathlib import Path
from typing import Iterator

from .catalogue import load_catalogue
from .decide import decide, to_json
from .load import ClaimError, parse_claim, read_claim_file
from .rulebook import load_rulebook


def read_inputs(source: str | os.PathLike) -> Iterator[tuple[str, dict | None, list | None]]:
    """(label, claim dict or None, problems or None) for each claim, in input order."""
    p = Path(source)
    if p.is_dir():
        for f in sorted(x for x in p.iterdir() if x.suffix.lower() in (".yaml", ".yml", ".json")):
            try:
                yield f.name, read_claim_file(f), None
            except ClaimError as exc:
                yield f.name, None, exc.problems
    else:
        with open(p, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                label = f"{p.name}:{n}"
                try:
                    data = json.loads(line)
                except ValueError as exc:
                    yield label, None, [("(claim file)", f"not valid JSON: {exc}")]
                    continue
                if not isinstance(data, dict):
                    yield label, None, [("(claim file)", "expected a JSON object")]
                    continue
                yield label, data, None


_state: dict = {}


def _init(rules: str | None) -> None:
    _state["catalogue"] = load_catalogue(rules)
    _state["book"] = load_rulebook(rules)


def _error_line(label: str, problems: list) -> str:
    return json.dumps({"source": label, "errors": [{"field": f, "message": m} for f, m in problems]},
                      ensure_ascii=False, separators=(",", ":")) + "\n"


def adjudicate_one(item: tuple[str, dict | None, list | None]) -> str:
    label, data, problems = item
    if problems:
        return _error_line(label, problems)
    try:
        claim = parse_claim(data, _state["catalogue"])
    except ClaimError as exc:
        return _error_line(label, exc.problems)
    return to_json(decide(claim, _state["book"], _state["catalogue"]))


class Progress:
    def __init__(self, enabled: bool):
        self.enabled, self.n = enabled, 0

    def tick(self, bad: bool) -> None:
        self.n += 1
        if self.enabled and (self.n % 50 == 0):
            sys.stderr.write(f"\r{self.n:,} claims adjudicated")
            sys.stderr.flush()

    def done(self, bad: int) -> None:
        if self.enabled:
            sys.stderr.write(f"\r{self.n:,} claims adjudicated, {bad:,} with errors\n")


def run_batch(source: str, out_path: str, workers: int = 1, rules: str | None = None, ledger=None,
              progress: bool | None = None) -> tuple[int, int]:
    """Returns (claims, claims with errors). Writes to a temporary file, renamed at the end."""
    progress = sys.stderr.isatty() if progress is None else progress
    bar = Progress(progress)
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
            ctx = mp.get_context("spawn")  # a fresh interpreter per worker: no inherited C engine state
            pool = ctx.Pool(workers, initializer=_init, initargs=(rules,))
            lines = pool.imap(adjudicate_one, items, chunksize=64)
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
    bar.done(bad)
    return total, bad


def _with_ledger(items, ledger, rules) -> Iterator[str]:
    from .ledger import LedgerError

    _init(rules)
    catalogue, book = _state["catalogue"], _state["book"]
    for label, data, problems in items:
        if problems:
            yield _error_line(label, problems)
            continue
        try:
            claim = parse_claim(data, catalogue)
            _, decision = ledger.record(data, claim, catalogue, lambda c, note: decide(c, book, catalogue, note))
        except ClaimError as exc:
            yield _error_line(label, exc.problems)
            continue
        except LedgerError as exc:
            field, _, msg = str(exc).partition(": ")
            yield _error_line(label, [(field, msg)])
            continue
        yield to_json(decision)
