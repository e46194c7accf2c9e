"""Command line: `adjudicator adjudicate|plans|rules ...`. Exit 0 ok, 1 a failed check, 2 bad input."""
from __future__ import annotations

import argparse
import sys

from .catalogue import load_catalogue, value
from .decide import decide, to_json
from .load import ClaimError, parse_claim, read_claim_file
from .rulebook import RulebookError, check_rulebook, load_rulebook


def _fail_input(problems: list[tuple[str, str]]) -> int:
    for path, msg in problems:
        print(f"{path}: {msg}", file=sys.stderr)
    return 2


def cmd_adjudicate(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.rules)
    book = load_rulebook(args.rules)
    try:
        raw = read_claim_file(args.claim_file)
        claim = parse_claim(raw, catalogue)
    except ClaimError as exc:
        return _fail_input(exc.problems)
    if args.ledger or args.record or args.readjudicate:
        from .ledger import Ledger, LedgerError
        try:
            with Ledger(args.ledger) as ledger:
                _, decision = ledger.record(raw, claim, catalogue, lambda c, note: decide(c, book, catalogue, note),
                                            readjudicate=args.readjudicate)
        except LedgerError as exc:
            field, _, msg = str(exc).partition(": ")
            return _fail_input([(field, msg)])
    else:
        decision = decide(claim, book, catalogue)
    if args.format == "json":
        out = to_json(decision, pretty=True)
    else:
        from .explain import render
        out = render(decision, fmt=args.format, lang=args.lang, audit=args.audit, claim=claim, book=book,
                     catalogue=catalogue)
    sys.stdout.write(out)  # written only once everything succeeded: nothing half-written
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from .ledger import Ledger
    with Ledger(args.ledger) as ledger:
        ok, message = ledger.verify()
    print(("OK: " if ok else "TAMPERED: ") + message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _recorded(args: argparse.Namespace):
    """The ledger record named by args.id with the catalogue, rulebook and claim to re-read it,
    or None after reporting that it does not exist."""
    from .ledger import Ledger, LedgerError
    try:
        with Ledger(args.ledger) as ledger:
            rec = ledger.find(args.id)
    except LedgerError as exc:
        print(exc, file=sys.stderr)
        return None
    catalogue, book = load_catalogue(args.rules), load_rulebook(args.rules)
    return rec, catalogue, book, parse_claim(rec.effective, catalogue)


def cmd_audit_show(args: argparse.Namespace) -> int:
    from .explain import render
    found = _recorded(args)
    if found is None:
        return 2
    rec, catalogue, book, claim = found
    doc = render(rec.decision, fmt=args.format, lang=args.lang, audit=True, claim=claim, book=book, catalogue=catalogue)
    header = (f"ledger record {rec.seq} · recorded {rec.row['recorded_at']} · hash {rec.row['hash']} · "
              f"prev {rec.row['prev_hash']} · rulebook {rec.row['rulebook_version']} {rec.row['rulebook_sha256']}\n")
    if args.format == "html":
        doc = doc.replace("<body>", f"<body>\n<p class=\"meta\">{header}</p>", 1)
    else:
        doc = header + "\n" + doc
    sys.stdout.write(doc)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from .compare import compare, describe
    from .decide import to_json
    found = _recorded(args)
    if found is None:
        return 2
    rec, catalogue, book, claim = found
    note = {k: v for k, v in rec.decision["prior_payments"].items() if k in ("source", "records")}
    now = decide(claim, book, catalogue, note if note.get("source") == "ledger" else None)
    stored = rec.row["decision_json"] + "\n"
    if to_json(now) == stored:
        print(f"record {rec.seq} ({rec.claim_id}): byte-identical under rulebook {book.version} {book.sha256}")
        return 0
    change = compare(rec.decision, now)
    print(f"record {rec.seq} ({rec.claim_id}): DIFFERENT under rulebook {book.version} {book.sha256} "
          f"(recorded under {rec.row['rulebook_version']} {rec.row['rulebook_sha256']})")
    for line in describe(change, "the record", "the current rulebook") or ["  (metadata only)"]:
        print(line)
    return 1


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch
    ledger = None
    if args.ledger:
        from .ledger import Ledger
        ledger = Ledger(args.ledger)
        if args.workers > 1:
            print("batch: with a ledger, claims are adjudicated in input order one at a time "
                  "(later claims draw on earlier ones' aggregates)", file=sys.stderr)
    try:
        total, bad = run_batch(args.input, args.out, workers=args.workers, rules=args.rules, ledger=ledger)
    except FileNotFoundError as exc:
        print(f"input: {exc}", file=sys.stderr)
        return 2
    finally:
        if ledger is not None:
            ledger.close()
    print(f"{total} claims, {bad} with errors -> {args.out}", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from .batch import load_input, read_inputs
    from .compare import compare, describe
    books = {k: (load_catalogue(d), load_rulebook(d)) for k, d in (("A", args.rules_a), ("B", args.rules_b))}
    lines, changed, n, totals, cov_changes = [], 0, 0, {"A": 0, "B": 0}, {}
    for item in read_inputs(args.input):
        n += 1
        label, decisions, problems = item[0], {}, None
        for k, (cat, book) in books.items():
            try:
                decisions[k] = decide(parse_claim(load_input(item), cat), book, cat)
            except ClaimError as exc:
                decisions[k], problems = None, exc.problems
        if decisions["A"] is None or decisions["B"] is None:
            lines.append(f"{label}: invalid claim: " + "; ".join(f"{f}: {m}" for f, m in problems or []))
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
    lines += ["", "summary", f"  {'claims':<28}{n:>16,}", f"  {'changed':<28}{changed:>16,}",
              f"  {'unchanged':<28}{n - changed:>16,}",
              f"  {'total payable under A':<28}{totals['A']:>16,}", f"  {'total payable under B':<28}{totals['B']:>16,}",
              f"  {'difference (B - A)':<28}{totals['B'] - totals['A']:>16,}"]
    for cov, k in sorted(cov_changes.items()):
        lines.append(f"  {'changed ' + cov:<28}{k:>16,}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _yen(n: int) -> str:
    return f"{n:,}"


def cmd_plans(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.rules)
    ids = [args.programme] if args.programme else list(catalogue.programmes)
    lines = []
    for pid in ids:
        if pid not in catalogue.programmes:
            print(f"programme: unknown {pid!r}; expected one of {', '.join(catalogue.programmes)}", file=sys.stderr)
            return 2
        prog = catalogue[pid]
        lines.append(f"{pid}  {prog.label['ja']} / {prog.label['en']}")
        end = prog.period_end
        lines.append(f"  period: {prog.period_start} – {end if end else '(open)'}")
        if not prog.plans:
            for cov, spec in prog.data.get("benefits", {}).items():
                lines.append(f"  {cov}: {spec['label']['ja']} / {spec['label']['en']}")
            continue
        for name, plan in prog.plans.items():
            parts = []
            for key, node in plan["limits"].items():
                if isinstance(node, dict) and "value" not in node:
                    parts.append(f"{key}=" + "/".join(f"{fac}:{_yen(value(v))}" for fac, v in node.items()))
                else:
                    parts.append(f"{key}={_yen(value(node))}")
            lines.append(f"  {name:<7} {plan['kind']:<10} " + "  ".join(parts))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def cmd_quote(args: argparse.Namespace) -> int:
    import datetime as dt
    import json
    from dataclasses import asdict

    from .premium import quote
    catalogue = load_catalogue(args.rules)
    if args.programme not in catalogue.programmes or not catalogue[args.programme].plans:
        print(f"programme: {args.programme!r} has no tabulated premiums; expected one of "
              + ", ".join(p for p in catalogue.programmes if catalogue[p].plans), file=sys.stderr)
        return 2
    try:
        enrolled = dt.date.fromisoformat(args.enrolled_on) if args.enrolled_on else None
        q = quote(catalogue[args.programme], args.plan, args.facility, args.general_beds, args.other_beds,
                  args.places, enrolled)
    except ValueError as exc:
        msg = str(exc)
        print(msg if ": " in msg else f"enrolled_on: {msg}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(asdict(q), ensure_ascii=False, default=str))
    else:
        amount = f"{q.payable:,}円" if q.payable is not None else "—"
        print(f"{q.programme} {q.plan} {q.facility}: {amount}  ({q.note}; annual "
              f"{f'{q.annual:,}円' if q.annual is not None else '—'}; {q.reference})")
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    problems = check_rulebook(args.rules)
    if not problems:
        from .verify import verify_examples
        problems = verify_examples(args.rules)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"rulebook check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    book = load_rulebook(args.rules)
    print(f"rulebook {book.version} sha256 {book.sha256}: {len(book.rules)} rules OK "
          f"(ids unique, clauses and ja/en texts present, coverages known, every rule fires on its example "
          f"and stays silent on its counter-example)")
    return 0


def cmd_rules_list(args: argparse.Namespace) -> int:
    try:
        book = load_rulebook(args.rules)
    except RulebookError as exc:
        print(exc, file=sys.stderr)
        return 1
    rules = book.for_programme(args.programme) if args.programme else book.rules
    out = []
    for r in rules:
        eff = r.effect.kind + (f" {r.effect.target}" if r.effect.target else "") + \
            (f" {','.join(r.effect.coverages)}" if r.effect.coverages and r.effect.kind != "map_line" else "")
        out.append(f"{r.id:<44} {r.clause:<28} {eff:<40} {r.title.ja} / {r.title.en}")
    if not args.programme:
        out.append("")
        out.append("Out of scope (rules/out_of_scope.yaml):")
        for item in book.out_of_scope:
            out.append(f"  {item['clause']:<28} {item['item']}: {item['reason']}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="adjudicator", description=__doc__)
    p.add_argument("--rules", help="rulebook directory (default: the project's rules/, or $ADJUDICATOR_RULES)")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("adjudicate", help="adjudicate one claim file (YAML or JSON)")
    a.add_argument("claim_file")
    a.add_argument("--format", choices=["json", "text", "md", "html"], default="json")
    a.add_argument("--lang", choices=["ja", "en"], default="ja")
    a.add_argument("--audit", action="store_true", help="audit view: full trace, input, rulebook sha256")
    a.add_argument("--ledger", help="record the adjudication in this SQLite ledger")
    a.add_argument("--record", action="store_true", help="record in the default ledger ($ADJUDICATOR_LEDGER or the user data dir)")
    a.add_argument("--readjudicate", action="store_true", help="record a claim id that is already in the ledger again")
    a.set_defaults(func=cmd_adjudicate)

    au = sub.add_parser("audit", help="the ledger's audit trail")
    ausub = au.add_subparsers(dest="audit_command", required=True)
    av = ausub.add_parser("verify", help="walk the hash chain; report the first altered, removed or reordered record")
    av.add_argument("--ledger")
    av.set_defaults(func=cmd_audit_verify)
    ash = ausub.add_parser("show", help="render one ledger record (audit view)")
    ash.add_argument("id", help="ledger sequence number or claim id (its latest record)")
    ash.add_argument("--ledger")
    ash.add_argument("--format", choices=["text", "md", "html"], default="text")
    ash.add_argument("--lang", choices=["ja", "en"], default="ja")
    ash.set_defaults(func=cmd_audit_show)

    rp = sub.add_parser("replay", help="re-adjudicate a recorded claim with the current rulebook and compare")
    rp.add_argument("id")
    rp.add_argument("--ledger")
    rp.set_defaults(func=cmd_replay)

    b = sub.add_parser("batch", help="adjudicate a folder of claim files or a JSONL file")
    b.add_argument("input")
    b.add_argument("--out", required=True)
    b.add_argument("--workers", type=int, default=1)
    b.add_argument("--ledger")
    b.set_defaults(func=cmd_batch)

    d = sub.add_parser("diff", help="adjudicate a corpus under two rulebooks and list what changed")
    d.add_argument("input")
    d.add_argument("--rules-a", required=True)
    d.add_argument("--rules-b", required=True)
    d.set_defaults(func=cmd_diff)

    pl = sub.add_parser("plans", help="list the plans of a programme with their limits")
    pl.add_argument("programme", nargs="?")
    pl.set_defaults(func=cmd_plans)

    q = sub.add_parser("quote", help="premium of a tabulated point (else: ask the agent)")
    q.add_argument("programme")
    q.add_argument("plan")
    q.add_argument("--facility", required=True, choices=["clinic", "dental_clinic", "hospital", "care_facility"])
    q.add_argument("--general-beds", type=int, help="general beds (hospital)")
    q.add_argument("--other-beds", type=int, default=0, help="non-general beds (Nagano hospital)")
    q.add_argument("--places", type=int, help="places (care facility)")
    q.add_argument("--enrolled-on", help="application / payment date for a mid-term quote (YYYY-MM-DD)")
    q.add_argument("--format", choices=["text", "json"], default="text")
    q.set_defaults(func=cmd_quote)

    r = sub.add_parser("rules", help="check or list the rulebook")
    rsub = r.add_subparsers(dest="rules_command", required=True)
    rc = rsub.add_parser("check", help="validate the rulebook; non-zero exit on a problem")
    rc.set_defaults(func=cmd_rules_check)
    rl = rsub.add_parser("list", help="print the rules with their clauses")
    rl.add_argument("programme", nargs="?")
    rl.set_defaults(func=cmd_rules_list)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
