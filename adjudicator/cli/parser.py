"""The command line's parser: every command listed, only the asked one's options built."""
from __future__ import annotations

import argparse
import sys

from .audit import (cmd_audit_anchor, cmd_audit_export, cmd_audit_list, cmd_audit_policy, cmd_audit_show,
                    cmd_audit_verify, cmd_users)
from .catalogue import cmd_plans, cmd_quote, cmd_rules_check, cmd_rules_list
from .claims import cmd_adjudicate, cmd_schema, cmd_template
from .handling import cmd_benefit, cmd_clock, cmd_review, cmd_worklist
from .runs import cmd_batch, cmd_diff, cmd_replay
from .serve import cmd_serve

# `adjudicator --help`: what the command line does, its commands and exit codes.
DESCRIPTION = """adjudicator: coverage adjudication for Japanese cyber and personal-information-leak insurance
for medical institutions (fukuoka-cyber-2025, nagano-privacy-2016, jma-support).

Commands: adjudicate, plans, quote, rules (check | list), audit (verify | show), replay, batch, diff,
schema, template; on a recorded claim: review, clock, benefit, worklist; serve, users.
Exit status: 0 ok, 1 a failed check, 2 bad input (one line per bad field on stderr).
`adjudicator COMMAND --help` tells each command's options and defaults."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    from ..decide import ENGINE_VERSION
    try:
        pkg = version("adjudicator")
    except PackageNotFoundError:  # run from a source tree that is not installed
        pkg = ENGINE_VERSION
    return f"adjudicator {pkg} (engine {ENGINE_VERSION}, Python {sys.version.split()[0]})"


class _VersionAction(argparse._VersionAction):
    """`--version`, its text looked up only when asked for (the installed version is package metadata)."""

    def __call__(self, parser, namespace, values, option_string=None):
        self.version = _version()
        super().__call__(parser, namespace, values, option_string)


class _DefaultsFormatter(argparse.HelpFormatter):
    """Shows `(default: X)` where an option has a real default (not None, False or already said)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def _record_ref(parser: argparse.ArgumentParser) -> None:
    """A ledger record named by claim id (its latest record) or by `--seq N`, never guessed."""
    parser.add_argument("id", nargs="?", help="claim id (its latest record); an all-digit id is a claim id too")
    parser.add_argument("--seq", type=int, help="ledger sequence number instead of a claim id")


class _Unbuilt:
    """Stands in for the parser of a command that was not asked for: every call on it does nothing."""

    def __getattr__(self, name: str):
        return lambda *args, **kw: self


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, every command is still listed (help, choices) but only
    that one gets its options (most of the parser's cost, paid by each run)."""
    fmt = _DefaultsFormatter
    p = argparse.ArgumentParser(prog="adjudicator", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=_VersionAction)
    p.add_argument("--rules", help="rulebook directory (default: the project's rules/, or $ADJUDICATOR_RULES)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add = sub.add_parser

    def add_parser(name: str, **kw):
        kw.setdefault("formatter_class", fmt)
        kw.setdefault("description", kw.get("help"))
        parser = _add(name, **kw)
        return parser if only is None or name == only else _Unbuilt()
    rules_help = "rulebook directory, here or before the command (default: the project's rules/, or $ADJUDICATOR_RULES)"
    sub.add_parser = add_parser  # every command shows its defaults in --help

    a = sub.add_parser("adjudicate", help="adjudicate one claim file (YAML or JSON)")
    a.add_argument("claim_file", help="claim file path (.yaml, .yml or .json), or - to read it from standard input")
    a.add_argument("--format", choices=["json", "text", "md", "html"], default="json",
                   help="json: the decision; text, md, html: the decision document")
    a.add_argument("--lang", choices=["ja", "en"], default=None,
                   help="language of the document (default ja) and of input errors (default en)")
    a.add_argument("--audit", action="store_true", help="audit view: full trace, input, rulebook sha256; with --format json the decision plus an audit member (claim as given, ledger seq, prior records)")
    a.add_argument("--handler", help="who decides, shown on the document (default: $ADJUDICATOR_HANDLER)")
    a.add_argument("--decided-on", help="decision date shown on the document, YYYY-MM-DD (default: today)")
    a.add_argument("--ledger", help="record the adjudication in this ledger (SQLite path or postgresql:// URL)")
    a.add_argument("--record", action="store_true", help="record in the default ledger ($ADJUDICATOR_LEDGER or the user data dir)")
    a.add_argument("--readjudicate", action="store_true", help="record again a claim id that is already in the ledger (in the default ledger unless --ledger)")
    a.set_defaults(func=cmd_adjudicate)

    ledger_help = "the ledger: a SQLite file path or a postgresql:// URL (default: $ADJUDICATOR_LEDGER or the user data dir)"
    au = sub.add_parser("audit", help="the ledger's audit trail")
    ausub = au.add_subparsers(dest="audit_command", required=True)
    av = ausub.add_parser("verify", help="walk the hash chain; report the first altered, removed or reordered record")
    av.add_argument("--ledger", help=ledger_help)
    av.add_argument("--anchor", nargs="+", metavar="FILE", help="anchor files to check the chain against")
    av.add_argument("--key-file", help="the anchor key (default: $ADJUDICATOR_ANCHOR_KEY or ~/.config/adjudicator/anchor.key)")
    av.set_defaults(func=cmd_audit_verify)
    aa = ausub.add_parser("anchor", help="write a signed statement of the chain head (HMAC-SHA256)")
    aa.add_argument("--ledger", help=ledger_help)
    aa.add_argument("--key-file", help="the anchor key, made if missing (default: $ADJUDICATOR_ANCHOR_KEY or "
                                       "~/.config/adjudicator/anchor.key)")
    aa.add_argument("--out", help="write the anchor to this file (default: stdout)")
    aa.set_defaults(func=cmd_audit_anchor)
    ash = ausub.add_parser("show", help="one ledger record (audit view); flags a record that does not verify")
    _record_ref(ash)
    ash.add_argument("--ledger", help=ledger_help)
    ash.add_argument("--format", choices=["text", "md", "html", "json"], default="text", help="document format")
    ash.add_argument("--lang", choices=["ja", "en"], default="ja", help="document language")
    ash.set_defaults(func=cmd_audit_show)
    al = ausub.add_parser("list", help="ledger records, filtered")
    al.add_argument("--ledger", help=ledger_help)
    al.add_argument("--policy", help="policy number (normalised: case, width, surrounding space)")
    al.add_argument("--claim", help="claim id")
    al.add_argument("--since", help="recorded on or after (YYYY-MM-DD or a date-time)")
    al.add_argument("--until", help="recorded on or before (YYYY-MM-DD, that day included, or a date-time)")
    al.add_argument("--format", choices=["table", "json", "csv"], default="table")
    al.set_defaults(func=cmd_audit_list)
    ap = ausub.add_parser("policy", help="a policy's aggregate pools (limit, used, left) and its records")
    ap.add_argument("policy_number")
    ap.add_argument("--ledger", help=ledger_help)
    ap.add_argument("--format", choices=["table", "json"], default="table")
    ap.set_defaults(func=cmd_audit_policy)
    ae = ausub.add_parser("export", help="every record with every stored field")
    ae.add_argument("--ledger", help=ledger_help)
    ae.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    ae.set_defaults(func=cmd_audit_export)

    us = sub.add_parser("users", help="accounts of the HTTP service (kept in the ledger database)")
    ussub = us.add_subparsers(dest="users_command", required=True)
    ua = ussub.add_parser("add", help="add a user; prints their API token once")
    ua.add_argument("name")
    ua.add_argument("--role", required=True, choices=["handler", "underwriter", "auditor", "admin"])
    ul = ussub.add_parser("list", help="users with role and state (never a token)")
    ul.add_argument("--format", choices=["table", "json"], default="table")
    ud = ussub.add_parser("disable", help="disable a user (their token stops working)")
    ud.add_argument("name")
    ur = ussub.add_parser("rotate", help="a new token for a user; the old one stops working")
    ur.add_argument("name")
    for x in (ua, ul, ud, ur):
        x.add_argument("--ledger", help=ledger_help)
        x.set_defaults(func=cmd_users)

    rv = sub.add_parser("review", help="二次査定: approve a recorded refusal or cut, or return it to its handler "
                        "with a note (not by the account that recorded it)")
    rv.add_argument("claim_id", help="the claim id (its latest record)")
    act = rv.add_mutually_exclusive_group(required=True)
    act.add_argument("--approve", action="store_true", help="the decision becomes final")
    act.add_argument("--return", dest="send_back", action="store_true", help="back to its handler (needs --note)")
    rv.add_argument("--note", help="what the reviewer says (required with --return)")
    rv.add_argument("--decision", type=int, metavar="SEQ", required=True, help="the decision record you read "
                    "(`clock show` gives it): refused if the claim was re-adjudicated since")
    rv.add_argument("--format", choices=["text", "json"], default="text")
    rv.add_argument("--ledger", help=ledger_help)
    rv.set_defaults(func=cmd_review)

    bn = sub.add_parser("benefit", help="請求案内: mark an unclaimed benefit of a recorded decision told (案内済) "
                        "or declined (請求しない)")
    bn.add_argument("claim_id", help="the claim id (its latest record)")
    bn.add_argument("benefit", help="PROGRAMME:COVERAGE as the decision's unclaimed_benefits list it, "
                                    "e.g. jma-support:cyber_support")
    act = bn.add_mutually_exclusive_group(required=True)
    act.add_argument("--told", action="store_true", help="the claimant was told (案内済)")
    act.add_argument("--declined", action="store_true", help="the claimant declined to claim it (請求しない)")
    bn.add_argument("--on", help="the date, YYYY-MM-DD (default: today)")
    bn.add_argument("--format", choices=["text", "json"], default="text")
    bn.add_argument("--ledger", help=ledger_help)
    bn.set_defaults(func=cmd_benefit)

    ck = sub.add_parser("clock", help="the payment clock (000 §18): completion date, extension, pause, payment")
    cksub = ck.add_subparsers(dest="action", required=True, metavar="ACTION")
    ck_show = cksub.add_parser("show", help="the claim's review and clock as they stand")
    ck_done = cksub.add_parser("complete", help="the day the claim was completed (請求完了日): due 30 days later")
    ck_done.add_argument("--on", required=True, help="YYYY-MM-DD")
    ck_ext = cksub.add_parser("extend", help="an extension agreed with the insured for one of the five reasons")
    ck_ext.add_argument("--reason", required=True, choices=["public_investigation", "expert_appraisal",
                                                            "disaster_area", "abroad", "special_claim"])
    ck_ext.add_argument("--to", required=True, help="the agreed new due date, YYYY-MM-DD")
    ck_ext.add_argument("--agreed-on", help="the day it was agreed, YYYY-MM-DD")
    ck_pause = cksub.add_parser("pause", help="a delay the insured caused (確認を妨げ、または応じなかった): "
                                "the due date moves by its days")
    ck_pause.add_argument("--from", dest="from_", required=True, help="YYYY-MM-DD")
    ck_pause.add_argument("--to", required=True, help="YYYY-MM-DD (the day it ended)")
    ck_pause.add_argument("--note", help="what the insured did not supply")
    ck_unpause = cksub.add_parser("remove-pause", help="take back a pause recorded in error (both records stay "
                                  "in the chain)")
    ck_unpause.add_argument("--from", dest="from_", required=True, help="the pause's first day, YYYY-MM-DD")
    ck_unext = cksub.add_parser("remove-extension", help="take back an extension recorded in error")
    ck_unpaid = cksub.add_parser("remove-paid", help="take back a payment recorded in error (a wrong date): "
                                 "the clock runs again")
    ck_paid = cksub.add_parser("paid", help="the payment was made: the clock stops")
    ck_paid.add_argument("--on", help="YYYY-MM-DD (default: today)")
    for x in (ck_show, ck_done, ck_ext, ck_pause, ck_unpause, ck_unext, ck_unpaid, ck_paid):
        x.add_argument("claim_id", help="the claim id")
        x.add_argument("--format", choices=["text", "json"], default="text")
        x.add_argument("--ledger", help=ledger_help)
        x.set_defaults(func=cmd_clock)

    wk = sub.add_parser("worklist", help="open claims by payment due date, overdue first (未払: payable, unpaid, past due)")
    wk.add_argument("--all", action="store_true", help="everyone's claims, not only those you (cli:<user>) recorded")
    wk.add_argument("--today", help="count overdue from this day, YYYY-MM-DD (default: today)")
    wk.add_argument("--limit", type=int, default=50)
    wk.add_argument("--format", choices=["text", "json"], default="text")
    wk.add_argument("--ledger", help=ledger_help)
    wk.set_defaults(func=cmd_worklist)

    rp = sub.add_parser("replay", help="re-adjudicate a recorded claim with the current rulebook and compare")
    _record_ref(rp)
    rp.add_argument("--ledger", help=ledger_help)
    rp.set_defaults(func=cmd_replay)

    b = sub.add_parser("batch", help="adjudicate a folder of claim files or a JSONL file")
    b.add_argument("input", help="a folder of claim files or a JSONL file (one claim per line)")
    b.add_argument("--out", required=True, help="JSONL file to write: one decision or error per claim, in input order")
    b.add_argument("--workers", type=int, default=1, help="worker processes (1 to 4 per CPU)")
    b.add_argument("--ledger", help="record every claim in this ledger (SQLite path or postgresql:// URL), in input order; a rerun skips claims already recorded with the same input")
    b.set_defaults(func=cmd_batch)

    d = sub.add_parser("diff", help="adjudicate a corpus under two rulebooks and list what changed")
    d.add_argument("input", help="a folder of claim files or a JSONL file")
    d.add_argument("--rules-a", required=True, help="the first rulebook directory")
    d.add_argument("--rules-b", required=True, help="the second rulebook directory")
    d.set_defaults(func=cmd_diff)

    pl = sub.add_parser("plans", help="list the plans of a programme with their limits")
    pl.add_argument("programme", nargs="?", help="only this programme (default: all)")
    pl.set_defaults(func=cmd_plans)

    q = sub.add_parser("quote", help="premium of a tabulated point (else: ask the agent)")
    q.add_argument("programme", help="fukuoka-cyber-2025 or nagano-privacy-2016")
    q.add_argument("plan", help="plan / type, e.g. S3 or D")
    q.add_argument("--facility", required=True, choices=["clinic", "dental_clinic", "hospital", "care_facility"],
                   help="facility kind")
    q.add_argument("--general-beds", type=int, help="general beds (hospital)")
    q.add_argument("--other-beds", type=int, default=0, help="non-general beds (Nagano hospital)")
    q.add_argument("--places", type=int, help="places (care facility)")
    q.add_argument("--enrolled-on", help="application / payment date for a mid-term quote (YYYY-MM-DD)")
    q.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    q.set_defaults(func=cmd_quote)

    sv = sub.add_parser("serve", help="the decision service: HTTP API under /api/v1 (OpenAPI at /openapi.json)")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=int, default=8000, help="port, 1..65535 (default 8000)")
    sv.add_argument("--ledger", help="SQLite path or postgresql:// URL (default $ADJUDICATOR_LEDGER or the user data dir)")
    sv.add_argument("--workers", type=int, default=1, help="worker processes, 1 to 4 per CPU (the engine runs one claim at a time per process)")
    sv.add_argument("--max-body", type=int, default=1024 * 1024, help="largest request body in bytes (default 1 MiB)")
    sv.add_argument("--rulebook", action="append", default=[], metavar="NAME=FOLDER",
                    help="a rulebook folder POST /api/v1/diff may compare (repeatable; 'current' is --rules)")
    sv.add_argument("--anchor-dir", help="write a signed anchor of the chain head to this folder ...")
    sv.add_argument("--anchor-every", type=int, default=1000, help="... every this many records")
    sv.add_argument("--key-file", help="the anchor key, made if missing (default: $ADJUDICATOR_ANCHOR_KEY or "
                                       "~/.config/adjudicator/anchor.key)")
    sv.set_defaults(func=cmd_serve)

    r = sub.add_parser("rules", help="check or list the rulebook")
    rsub = r.add_subparsers(dest="rules_command", required=True)
    rc = rsub.add_parser("check", help="validate the rulebook; non-zero exit on a problem")
    rc.set_defaults(func=cmd_rules_check)
    rl = rsub.add_parser("list", help="print the rules with their clauses")
    rl.add_argument("programme", nargs="?", help="only this programme's rules")
    rl.add_argument("--lang", choices=["ja", "en"], default="en", help="language of the out-of-scope items")
    rl.set_defaults(func=cmd_rules_list)

    sc = sub.add_parser("schema", help="print the JSON Schema of a claim file (for editors)")
    sc.add_argument("what", choices=["claim"], help="which schema")
    sc.set_defaults(func=cmd_schema)

    tp = sub.add_parser("template", help="print a commented claim file to fill in")
    tp.add_argument("programme", help="fukuoka-cyber-2025, nagano-privacy-2016 or jma-support")
    tp.set_defaults(func=cmd_template)
    _rules_after_command(p, rules_help)
    return p


def _rules_after_command(parser: argparse.ArgumentParser, help_text: str) -> None:
    """`--rules DIR` also after the command, on every command that reads the rulebook: SUPPRESS keeps
    the value given before the command when it is not repeated after it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if name in ("diff", "users"):  # diff names its two rulebooks; users reads none
                    continue
                if not any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                    if "--rules" not in sub._option_string_actions:
                        sub.add_argument("--rules", default=argparse.SUPPRESS, help=help_text)
                else:
                    _rules_after_command(sub, help_text)
