"""Many claims at once: replay a recorded claim, batch a corpus, diff a corpus under two rulebooks."""
from __future__ import annotations

import argparse
import sys

from ..contract.text import quote
from .common import _fail_input, _ledger_error, _open_ledger, _recorded, _term, cli_user, rulebook_problem, workers_problem


def cmd_replay(args: argparse.Namespace) -> int:
    from ..runs.replay import replay
    found = _recorded(args)
    if found is None:
        return 2
    rec, catalogue, book, _ = found
    r = replay(rec, catalogue, book)
    if r["identical"]:
        print(f"record {r['seq']} ({_term(r['claim_id'])}): byte-identical under rulebook {book.version} {book.sha256}")
        return 0
    print(f"record {r['seq']} ({_term(r['claim_id'])}): DIFFERENT under rulebook {book.version} {book.sha256} "
          f"(recorded under {r['recorded_under']['version']} {r['recorded_under']['sha256']})")
    for line in r["lines"]:
        print(_term(line))
    return 1


def cmd_batch(args: argparse.Namespace) -> int:
    """Exit 0: every claim decided; 1: the run finished and wrote --out, but some claims have
    error lines (counted in the summary); 2: the run could not start (input or --out refused)."""
    from ..ledger import LedgerError
    from ..runs.batch import InputError, run_batch
    from ..runs.output import OutputError
    if (why := workers_problem(args.workers)):
        return _fail_input([("--workers", why)])
    ledger = None
    if args.ledger:
        try:
            ledger = _open_ledger(args, create=True)
        except LedgerError as exc:
            return _ledger_error(exc)
        if args.workers > 1:
            print("batch: with a ledger, claims are adjudicated in input order one at a time "
                  "(later claims draw on earlier ones' aggregates)", file=sys.stderr)
    stats: dict = {}
    try:
        protected = (("the ledger", ledger.target),) if ledger is not None and ledger.backend == "sqlite" else ()
        total, bad = run_batch(args.input, args.out, workers=args.workers, rules=args.rules, ledger=ledger,
                               recorded_by=cli_user(), stats=stats, protected=protected)
    except InputError as exc:
        print(f"input: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"--out: {exc}", file=sys.stderr)
        return 2
    except LedgerError as exc:
        print(f"{_term(exc)}; the claims of the unfinished group were not recorded; run the same batch again to "
              "resume", file=sys.stderr)
        return 2
    finally:
        if ledger is not None:
            ledger.close()
    for kept in stats.get("kept_partial") or []:
        print(f"kept the partial output of an earlier run: {_term(kept)}", file=sys.stderr)
    skipped = f", {stats['skipped']} already recorded in the ledger (skipped, recorded decisions written)" \
        if ledger is not None else ""
    print(f"{total} claims, {bad} with errors{skipped} -> {args.out}", file=sys.stderr)
    return 1 if bad else 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Exit 0: every claim decided under both rulebooks (changed or not); 1: some claims could not be
    (each is listed; the summary counts them); 2: the input could not be read."""
    from ..runs.batch import InputError, read_inputs
    from ..engine.rulebook import load_rulebook
    from ..policy.catalogue import load_catalogue
    from ..runs.diff import compare, describe, diff_one
    problems = [(flag, p) for flag, p in (("--rules-a", rulebook_problem(args.rules_a)),
                                          ("--rules-b", rulebook_problem(args.rules_b))) if p]
    if problems:
        return _fail_input(problems)
    books = {k: (load_catalogue(d), load_rulebook(d)) for k, d in (("A", args.rules_a), ("B", args.rules_b))}
    lines, changed, n, bad, totals, cov_changes = [], 0, 0, 0, {"A": 0, "B": 0}, {}
    try:
        for item in read_inputs(args.input):
            n += 1
            label = quote(item[0], 120, bare=True)
            decisions, problems = diff_one(item, books)
            if problems:
                bad += 1
                lines.append(f"{label}: invalid claim: " + "; ".join(f"{f}: {m}" for f, m in problems))
                continue
            totals["A"] += decisions["A"]["total_payable"]
            totals["B"] += decisions["B"]["total_payable"]
            change = compare(decisions["A"], decisions["B"])
            if change["changed"]:
                changed += 1
                lines.append(f"{label} ({change['claim_id']}):")
                lines.extend(describe(change))
                for c in change["coverages"]:
                    cov_changes[c["coverage"]] = cov_changes.get(c["coverage"], 0) + 1
    except (InputError, FileNotFoundError) as exc:
        print(f"input: {exc}", file=sys.stderr)
        return 2
    lines += ["", "summary", f"  {'claims':<28}{n:>16,}", f"  {'changed':<28}{changed:>16,}",
              f"  {'unchanged':<28}{n - changed - bad:>16,}", f"  {'with errors':<28}{bad:>16,}",
              f"  {'total payable under A':<28}{totals['A']:>16,}", f"  {'total payable under B':<28}{totals['B']:>16,}",
              f"  {'difference (B - A)':<28}{totals['B'] - totals['A']:>16,}"]
    for cov, k in sorted(cov_changes.items()):
        lines.append(f"  {'changed ' + cov:<28}{k:>16,}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if bad else 0
