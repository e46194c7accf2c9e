"""Command line: `adjudicator adjudicate|plans|rules ...`. Exit 0 ok, 1 a failed check, 2 bad input."""
from __future__ import annotations

import argparse
import sys

from .catalogue import load_catalogue, value
from .decide import decide, to_json
from .load import ClaimError, parse_claim
from .rulebook import RulebookError, check_rulebook, load_rulebook


def _fail_input(problems: list[tuple[str, str]]) -> int:
    for path, msg in problems:
        print(f"{path}: {msg}", file=sys.stderr)
    return 2


def cmd_adjudicate(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.rules)
    book = load_rulebook(args.rules)
    try:
        claim = parse_claim(args.claim_file, catalogue)
    except ClaimError as exc:
        return _fail_input(exc.problems)
    decision = decide(claim, book, catalogue)
    if args.format == "json":
        out = to_json(decision, pretty=True)
    else:
        from .explain import render
        out = render(decision, fmt=args.format, lang=args.lang, audit=args.audit, claim=claim, book=book,
                     catalogue=catalogue)
    sys.stdout.write(out)  # written only once everything succeeded: nothing half-written
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
    a.set_defaults(func=cmd_adjudicate)

    pl = sub.add_parser("plans", help="list the plans of a programme with their limits")
    pl.add_argument("programme", nargs="?")
    pl.set_defaults(func=cmd_plans)

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
