"""The plan catalogue and the rulebook: plans, quote, rules check and rules list."""
from __future__ import annotations

import argparse
import sys

from ..contract.text import quote as quote_value
from .common import _started, _term, cli_date


def _yen(n: int) -> str:
    return f"{n:,}"


def cmd_plans(args: argparse.Namespace) -> int:
    from ..policy.catalogue import load_catalogue, value
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


_QUOTE_FLAGS = ("--general-beds", "--other-beds", "--places", "--enrolled-on")


def cmd_quote(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from ..policy.catalogue import load_catalogue
    from ..policy.premium import quote
    catalogue = load_catalogue(args.rules)
    if args.programme not in catalogue.programmes or not catalogue[args.programme].plans:
        print(f"programme: {args.programme!r} has no tabulated premiums; expected one of "
              + ", ".join(p for p in catalogue.programmes if catalogue[p].plans), file=sys.stderr)
        return 2
    try:
        enrolled = cli_date(args.enrolled_on, "--enrolled-on") if args.enrolled_on is not None else None
        q = quote(catalogue[args.programme], args.plan, args.facility, args.general_beds, args.other_beds,
                  args.places, enrolled)
    except ValueError as exc:
        field, _, msg = str(exc).partition(": ")
        flag = "--" + field.replace("_", "-")  # the quote's own field names, as the flags spell them
        print(f"{flag if flag in _QUOTE_FLAGS else field}: {msg}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(asdict(q), ensure_ascii=False, default=str))
    else:
        amount = f"{q.payable:,}円" if q.payable is not None else "—"
        print(f"{q.programme} {q.plan} {q.facility}: {amount}  ({q.note}; annual "
              f"{f'{q.annual:,}円' if q.annual is not None else '—'}; {q.reference})")
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    from ..engine.check import check_rulebook
    from ..engine.rulebook import load_rulebook
    problems = check_rulebook(args.rules)
    if not problems:
        from ..engine.examples import verify_examples
        _started()
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
    from ..engine.rulebook import RulebookError, load_rulebook
    try:
        book = load_rulebook(args.rules)
    except RulebookError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.programme is not None:  # as `plans`: an unknown programme is not an empty list
        from ..policy.catalogue import load_catalogue
        known = load_catalogue(args.rules).programmes
        if args.programme not in known:
            print(f"programme: unknown {quote_value(args.programme)}; expected one of {', '.join(known)}",
                  file=sys.stderr)
            return 2
    rules = book.for_programme(args.programme) if args.programme else book.rules
    out = []
    for r in rules:
        eff = r.effect.kind + (f" {r.effect.target}" if r.effect.target else "") + \
            (f" {','.join(r.effect.coverages)}" if r.effect.coverages and r.effect.kind != "map_line" else "")
        out.append(f"{r.id:<44} {r.clause:<28} {eff:<40} {r.title.ja} / {r.title.en}")
    if not args.programme:
        out.append("")
        ja = args.lang == "ja"
        out.append("ルールにしない事項（rules/out_of_scope.yaml）:" if ja else "Out of scope (rules/out_of_scope.yaml):")
        for item in book.out_of_scope:
            what, why = (item.get("item_ja") or item["item"], item.get("reason_ja") or item["reason"]) if ja \
                else (item["item"], item["reason"])
            out.append(f"  {item['clause']:<28} {_term(what)}: {_term(why)}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0
