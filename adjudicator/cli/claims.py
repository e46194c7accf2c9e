"""One claim: adjudicate (its decision, document or audit view; recorded in a ledger if asked), and
the claim file's JSON Schema and a template to fill in."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

from .common import _fail_input, _open_ledger, _read_input, _started, cli_date, cli_user


def _earlier_records(ledger, claim, catalogue, seq: int) -> list[dict]:
    """The earlier claims on the same policy and period whose payments the ledger counted (the latest
    record of each claim id), for the document to name them."""
    period = str(catalogue[claim.programme].period_start)
    latest: dict[str, dict] = {}
    for r in ledger.list_records(policy=claim.policy.policy_number):
        if r["seq"] < seq and r["programme"] == claim.programme and r["period_start"] == period \
                and r["claim_id"] != claim.claim_id:
            latest[r["claim_id"]] = r
    return [{"seq": r["seq"], "claim_id": r["claim_id"], "paid": r["total_payable"]}
            for r in sorted(latest.values(), key=lambda r: r["seq"])]


def cmd_adjudicate(args: argparse.Namespace) -> int:
    from ..contract.load import ClaimError
    from ..decide import decide, to_json
    from ..engine.rulebook import load_rulebook
    from ..policy.catalogue import load_catalogue
    from ..policy.claims import parse_claim
    handler = args.handler or os.environ.get("ADJUDICATOR_HANDLER")
    problems = _header_problems(handler, "--handler" if args.handler else "$ADJUDICATOR_HANDLER", args.decided_on)
    if problems:
        return _fail_input(problems, args.lang)
    catalogue = load_catalogue(args.rules)
    book = load_rulebook(args.rules)
    try:
        raw = _read_input(args.claim_file)
        if args.claim_file == "-":
            raw.setdefault("claim_id", "stdin")
        claim = parse_claim(raw, catalogue)
    except ClaimError as exc:
        return _fail_input(exc.problems, args.lang)
    _started()
    prior_records: list[dict] = []
    seq, draft = None, False
    if args.ledger or args.record or args.readjudicate:  # --readjudicate records too (in the default ledger)
        from ..ledger import LedgerError
        from ..ledger.base import check_recordable
        try:
            check_recordable(claim, catalogue)  # a claim the ledger would refuse creates no ledger file
            with _open_ledger(args, create=True) as ledger:
                seq, decision = ledger.record(raw, claim, catalogue, lambda c, note: decide(c, book, catalogue, note),
                                              readjudicate=args.readjudicate, recorded_by=cli_user())
                if decision["prior_payments"].get("source") == "ledger":
                    prior_records = _earlier_records(ledger, claim, catalogue, seq)
                draft = ledger.state(decision["claim_id"])["draft"]  # waits for its second review: 案 / draft
        except LedgerError as exc:
            field, sep, msg = str(exc).partition(": ")
            return _fail_input([(field, msg)] if sep else [("ledger", str(exc))], args.lang)
    else:
        decision = decide(claim, book, catalogue)
    if args.format == "json" and args.audit:
        out = to_json(_audit_json(decision, raw, seq, prior_records), pretty=True)
    elif args.format == "json":
        out = to_json(decision, pretty=True)
    else:
        from ..documents.render import render
        out = render(decision, fmt=args.format, lang=args.lang or "ja", audit=args.audit, claim=claim, book=book,
                     catalogue=catalogue, handler=handler,
                     decided_on=args.decided_on or dt.date.today().isoformat(),
                     ledger={"given": raw, "prior_records": prior_records}, draft=draft)
    sys.stdout.write(out)  # written only once everything succeeded: nothing half-written
    return 0


def _header_problems(handler: str | None, source: str, decided_on: str | None) -> list[tuple[str, str]]:
    """The document header's two values from the command line: the handler's name on one printable
    line of at most 64 characters (the md document escapes its punctuation; a line break would start a
    line of its own), and the decision date a real day."""
    from ..contract.text import quote, unsafe_char
    problems = []
    if handler is not None:
        if (at := unsafe_char(handler, allow_ideographic_space=True)) is not None:
            problems.append((source, f"a name on one line without control, format or line-break characters "
                                     f"(character {at + 1} is U+{ord(handler[at]):04X})"))
        elif not handler.strip() or len(handler) > 64:
            problems.append((source, f"expected a name of 1 to 64 characters, got {quote(handler)}"))
    if decided_on is not None:
        try:
            cli_date(decided_on, "--decided-on")
        except ValueError as exc:
            problems.append(tuple(str(exc).split(": ", 1)))
    return problems


def _audit_json(decision: dict, raw: dict, seq: int | None, prior_records: list[dict]) -> dict:
    """The decision JSON plus an `audit` member (additive): the claim file as given, the ledger
    record it was written as (null when not recorded) and the earlier records whose payments counted."""
    given = json.loads(json.dumps(raw, ensure_ascii=False, default=str))
    return {**decision, "audit": {"claim_as_given": given, "ledger_seq": seq, "prior_records": prior_records}}


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from ..contract.schema import claim_schema
    sys.stdout.write(json.dumps(claim_schema(), ensure_ascii=False, indent=2) + "\n")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from ..contract.claim import Facility
    from ..contract.schema import claim_template
    import typing

    from ..policy.catalogue import load_catalogue
    catalogue = load_catalogue(args.rules)
    if args.programme not in catalogue.programmes:
        print(f"programme: unknown {args.programme!r}; expected one of {', '.join(catalogue.programmes)}",
              file=sys.stderr)
        return 2
    prog = catalogue[args.programme]
    facilities = list(typing.get_args(Facility))
    eligible = prog.data.get("eligible_facilities", {}).get("value")
    if eligible:
        facilities = [f for f in facilities if f in eligible] + [f for f in facilities if f not in eligible]
    sys.stdout.write(claim_template(args.programme, list(prog.plans), facilities, prog.period_start))
    return 0
