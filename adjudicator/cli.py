"""adjudicator: coverage adjudication for Japanese cyber and personal-information-leak insurance
for medical institutions (fukuoka-cyber-2025, nagano-privacy-2016, jma-support).

Commands: adjudicate, plans, quote, rules (check | list), audit (verify | show), replay, batch, diff,
schema, template; on a recorded claim: review, clock, benefit, worklist; serve, users.
Exit status: 0 ok, 1 a failed check, 2 bad input (one line per bad field on stderr).
`adjudicator COMMAND --help` tells each command's options and defaults."""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import sys
import unicodedata

from .contract.text import quote
from .contract.wording import word

# The rest is imported by the commands that use it (the contract's pydantic models, the engine, the
# documents, the ledger, the service): `rules check` does not import the decision path, `plans` and
# `--help` import no pydantic, and `adjudicate --format json` no Jinja2, ledger or FastAPI.
# tests/test_startup.py holds this.


def _fail_input(problems: list[tuple[str, str]], lang: str | None = None) -> int:
    """One line per problem: `field.path: what was expected`, in Japanese under `--lang ja`."""
    for path, msg in problems:
        shown = "（請求ファイル）" if lang == "ja" and path == "(claim file)" else path
        print(f"{shown}: {word(msg, lang or 'en')}", file=sys.stderr)
    return 2


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


def _read_input(name: str) -> dict:
    """A claim file by path, or `-` for standard input (YAML or JSON)."""
    from .contract.load import read_claim_file, read_claim_text
    if name == "-":
        return read_claim_text(sys.stdin.read())
    return read_claim_file(name)


def cli_user() -> str:
    """Who records from the command line: cli:<OS user name>."""
    import getpass
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid-{os.getuid()}"


def _term(text: object) -> str:
    """Text for a terminal: control and format characters (escape sequences, bidi overrides) escaped."""
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf") or ch in "\n\t" else f"\\u{ord(ch):04x}"
                   for ch in str(text))


def _ledger_error(exc: Exception) -> int:
    field, sep, msg = str(exc).partition(": ")
    return _fail_input([(field, msg)] if sep else [("ledger", str(exc))])


def _open_ledger(args: argparse.Namespace, create: bool = False):
    from .ledger import Ledger
    return Ledger(getattr(args, "ledger", None), create=create)


def cmd_adjudicate(args: argparse.Namespace) -> int:
    from .contract.load import ClaimError
    from .decide import decide, to_json
    from .engine.rulebook import load_rulebook
    from .policy.catalogue import load_catalogue
    from .policy.claims import parse_claim
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
        from .ledger import LedgerError
        try:
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
        from .documents.render import render
        out = render(decision, fmt=args.format, lang=args.lang or "ja", audit=args.audit, claim=claim, book=book,
                     catalogue=catalogue, handler=args.handler or os.environ.get("ADJUDICATOR_HANDLER"),
                     decided_on=args.decided_on or dt.date.today().isoformat(),
                     ledger={"given": raw, "prior_records": prior_records}, draft=draft)
    sys.stdout.write(out)  # written only once everything succeeded: nothing half-written
    return 0


def _handling_out(args: argparse.Namespace, seq: int | None, state: dict) -> int:
    if getattr(args, "format", "text") == "json":
        print(json.dumps({"seq": seq, **state} if seq is not None else state, ensure_ascii=False, indent=2))
        return 0
    review, clock = state["review"], state["clock"]
    head = f"record {seq}: " if seq is not None else ""
    print(_term(f"{head}{state['claim_id']}: review {review['state']}"
                + (f" by {review['by']} at {review['at']}" if review.get("by") else "")
                + (f" (note: {review['note']})" if review.get("note") else "")
                + f"; handler {state.get('handler')}"))
    ext = clock.get("extension") or {}
    print(_term(f"  completed {clock.get('completed_on') or '-'}, due {clock.get('due_on') or '-'}"
                + (f", extended ({ext['reason']}) to {ext['to']}" if ext.get("to") else "")
                + (f", paused {clock['paused_days']} day(s)" if clock.get("paused_days") else "")
                + (f", paid {clock['paid_on']}" if clock.get("paid_on") else "")))
    for u in state.get("unclaimed") or []:
        mark = u.get("mark")
        print(_term(f"  unclaimed benefit {u['key']}: "
                    + (f"{mark['action']} on {mark['on']} by {mark['by']}" if mark else "not yet told or declined")))
    return 0


def cmd_benefit(args: argparse.Namespace) -> int:
    """請求案内: mark an unclaimed benefit of the recorded decision told (案内済) or declined (請求しない)."""
    from .ledger import LedgerError
    try:
        with _open_ledger(args) as ledger:
            seq, state = ledger.mark_benefit(args.claim_id, args.benefit, "told" if args.told else "declined",
                                             args.on or dt.date.today().isoformat(), by=cli_user())
    except LedgerError as exc:
        return _ledger_error(exc)
    return _handling_out(args, seq, state)


def cmd_review(args: argparse.Namespace) -> int:
    """二次査定: approve or return a recorded decision; not by the account (cli:<user>) that recorded it."""
    from .ledger import LedgerError
    try:
        with _open_ledger(args) as ledger:
            seq, state = ledger.review(args.claim_id, "approve" if args.approve else "return", args.note,
                                       by=cli_user())
    except LedgerError as exc:
        return _ledger_error(exc)
    return _handling_out(args, seq, state)


def cmd_clock(args: argparse.Namespace) -> int:
    """The payment clock (000 §18): complete, extend, pause, paid; or show it."""
    from .ledger import LedgerError
    from .policy.catalogue import load_catalogue
    values = {k: v for k, v in {"completed_on": getattr(args, "on", None) if args.action == "complete" else None,
                                "paid_on": getattr(args, "on", None) if args.action == "paid" else None,
                                "reason": getattr(args, "reason", None), "to": getattr(args, "to", None),
                                "from": getattr(args, "from_", None), "agreed_on": getattr(args, "agreed_on", None),
                                "note": getattr(args, "note", None)}.items() if v is not None}
    try:
        with _open_ledger(args) as ledger:
            if args.action == "show":
                return _handling_out(args, None, ledger.state(args.claim_id))
            seq, state = ledger.clock(args.claim_id, args.action, values, load_catalogue(args.rules), by=cli_user())
    except LedgerError as exc:
        return _ledger_error(exc)
    return _handling_out(args, seq, state)


def cmd_worklist(args: argparse.Namespace) -> int:
    """Open claims by due date, overdue first; 未払 marks a payable amount unpaid past its due date."""
    from .ledger import LedgerError
    try:
        today = dt.date.fromisoformat(args.today) if args.today else None
    except ValueError:
        return _fail_input([("--today", f"expected a date YYYY-MM-DD, got {quote(args.today)}")])
    try:
        with _open_ledger(args) as ledger:
            total, rows = ledger.worklist(handler=None if args.all else cli_user(), today=today, limit=args.limit)
    except LedgerError as exc:
        return _ledger_error(exc)
    if args.format == "json":
        print(json.dumps({"total": total, "claims": rows}, ensure_ascii=False, indent=2))
        return 0
    print(f"{total} open claim(s)")
    for r in rows:
        flag = "未払 " if r["unpaid"] else ("overdue " if r["overdue"] else "")
        print(_term(f"{flag}{r['claim_id']}  due {r['due_on'] or '-'}  payable {r['total_payable']:,}  "
                    f"review {r['review']}  needs {r['needs']}  handler {r['handler']}"))
    return 0


def _audit_json(decision: dict, raw: dict, seq: int | None, prior_records: list[dict]) -> dict:
    """The decision JSON plus an `audit` member (additive): the claim file as given, the ledger
    record it was written as (null when not recorded) and the earlier records whose payments counted."""
    given = json.loads(json.dumps(raw, ensure_ascii=False, default=str))
    return {**decision, "audit": {"claim_as_given": given, "ledger_seq": seq, "prior_records": prior_records}}


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from .ledger import LedgerDamaged, LedgerError
    from .ledger.chain import AnchorError, read_anchor, read_key
    try:
        anchors = []
        if args.anchor:
            key = read_key(args.key_file)
            anchors = [read_anchor(a, key) for a in args.anchor]
    except AnchorError as exc:
        return _ledger_error(exc)
    try:
        with _open_ledger(args) as ledger:
            ok, message = ledger.verify(anchors)
    except LedgerDamaged as exc:
        ok, message = False, str(exc).partition(": ")[2]
    except LedgerError as exc:
        return _ledger_error(exc)
    print(("OK: " if ok else "TAMPERED: ") + _term(message), file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    from .ledger import LedgerError
    from .ledger.chain import AnchorError, default_key_file, read_key, write_anchor
    key_path = args.key_file or default_key_file()
    created = not os.path.exists(key_path)
    try:
        key = read_key(key_path, create=True)
        with _open_ledger(args) as ledger:
            statement = ledger.anchor(key)
    except (AnchorError, LedgerError) as exc:
        return _ledger_error(exc)
    if created:
        print(f"created the anchor key {key_path}: keep it (and copies of the anchors) where whoever can write "
              "the ledger cannot", file=sys.stderr)
    if args.out:
        write_anchor(statement, args.out)
        print(f"anchored {statement['count']} records, head {statement['head']} -> {args.out}", file=sys.stderr)
    else:
        print(json.dumps(statement, sort_keys=True, indent=1))
    return 0


def _recorded(args: argparse.Namespace):
    """The ledger record named by args.id with the catalogue, rulebook and claim to re-read it,
    or None after reporting that it does not exist."""
    from .ledger import LedgerError
    try:
        with _open_ledger(args) as ledger:
            rec = ledger.find(seq=args.seq) if args.seq is not None else ledger.find(args.id)
    except LedgerError as exc:
        print(_term(exc), file=sys.stderr)
        return None
    from .engine.rulebook import load_rulebook
    from .policy.catalogue import load_catalogue
    from .policy.claims import parse_claim
    catalogue, book = load_catalogue(args.rules), load_rulebook(args.rules)
    return rec, catalogue, book, parse_claim(rec.effective, catalogue)


_META = ("seq", "claim_id", "policy_number", "policy_key", "programme", "period_start", "recorded_at", "recorded_by",
         "supersedes", "rulebook_version", "rulebook_sha256", "engine_version", "prev_hash", "hash")


# The ledger's reasons a record does not verify (adjudicator/ledger/base.py), as a claims department writes them.
_PROBLEM_JA = {
    "its hash does not match its fields: the record was altered": "記録の内容がハッシュと一致しません（記録が改変されています）",
    "it does not follow the record before it: records were removed or reordered":
        "直前の記録につながりません（記録が削除されたか、順序が入れ替えられています）",
    "it does not follow the start of the chain": "台帳の最初の記録につながりません",
}


def _audit_header(rec, lang: str) -> str:
    """The audit view's first lines: which record, when and by whom, its hashes and rulebook; a
    warning above them when the record does not verify. Values from the ledger file, not escaped here."""
    row = rec.row
    if lang == "ja":
        header = (f"台帳記録 {rec.seq} · 記録日時 {row['recorded_at']} · 記録者 {row.get('recorded_by') or '-'} · "
                  f"ハッシュ {row['hash']} · 直前の記録のハッシュ {row['prev_hash']} · "
                  f"ルールブック {row['rulebook_version']} {row['rulebook_sha256']}")
        if not rec.verified:
            problem = _PROBLEM_JA.get(rec.problem, rec.problem)
            header = f"警告: この記録の検証に失敗しました。{problem}\n{header}"
        return header
    header = (f"ledger record {rec.seq} · recorded {row['recorded_at']} by {row.get('recorded_by') or '-'} · "
              f"hash {row['hash']} · prev {row['prev_hash']} · rulebook {row['rulebook_version']} "
              f"{row['rulebook_sha256']}")
    if not rec.verified:
        header = f"WARNING: this record does not verify: {rec.problem}\n{header}"
    return header


def cmd_audit_show(args: argparse.Namespace) -> int:
    found = _recorded(args)
    if found is None:
        return 2
    rec, catalogue, book, claim = found
    if not rec.verified:
        print(f"WARNING: ledger record {rec.seq} does not verify: {rec.problem}", file=sys.stderr)
    if args.format == "json":
        meta = {k: rec.row.get(k) for k in _META}
        meta.update(verified=rec.verified, problem=rec.problem)
        sys.stdout.write(json.dumps({"record": meta, "input": rec.input, "effective": rec.effective,
                                     "decision": rec.decision}, ensure_ascii=False, indent=2) + "\n")
        return 0 if rec.verified else 1
    from .documents.render import render
    doc = render(rec.decision, fmt=args.format, lang=args.lang, audit=True, claim=claim, book=book, catalogue=catalogue)
    header = _audit_header(rec, args.lang)
    if args.format == "html":
        import html
        cls = "meta" if rec.verified else "meta tampered"
        doc = doc.replace("<body>", f"<body>\n<p class=\"{cls}\">{html.escape(header)}</p>", 1)
    else:  # the header's values come from the ledger file: escaped like the document
        from .documents.render import escape_line, escape_md
        escape = escape_md if args.format == "md" else escape_line
        doc = "\n".join(escape(line) for line in header.splitlines()) + "\n\n" + doc
    sys.stdout.write(doc)
    return 0 if rec.verified else 1


def _when(value: str | None, field: str) -> str | None:
    import datetime as dt
    if value is None:
        return None
    try:
        (dt.date.fromisoformat if len(value) == 10 else dt.datetime.fromisoformat)(value)
    except ValueError:
        raise ValueError(f"{field}: expected a date YYYY-MM-DD or a date-time, got {value!r}") from None
    return value


def _csv_cell(v: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _write_csv(rows: list[dict], columns: list[str]) -> None:
    import csv
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_csv_cell(json.dumps(r[c], ensure_ascii=False, sort_keys=True) if isinstance(r[c], (dict, list))
                              else r[c]) for c in columns])


_LIST_COLUMNS = ["seq", "recorded_at", "claim_id", "policy_number", "programme", "total_payable", "supersedes",
                 "recorded_by", "hash"]


def cmd_audit_list(args: argparse.Namespace) -> int:
    from .ledger import LedgerError
    try:
        since, until = _when(args.since, "since"), _when(args.until, "until")
        with _open_ledger(args) as ledger:
            rows = ledger.list_records(policy=args.policy, claim=args.claim, since=since, until=until)
    except (LedgerError, ValueError) as exc:
        return _ledger_error(exc)
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    elif args.format == "csv":
        _write_csv(rows, _LIST_COLUMNS + ["paid"])
    else:
        out = [f"{'seq':>7}  {'recorded_at':<32} {'claim_id':<24} {'policy':<16} {'programme':<20} {'payable':>14}  by"]
        for r in rows:
            out.append(f"{r['seq']:>7}  {r['recorded_at']:<32} {_term(r['claim_id']):<24} {_term(r['policy_number'] or '-'):<16} "
                       f"{r['programme']:<20} {r['total_payable']:>14,}  {_term(r['recorded_by'] or '-')}"
                       + (f"  (replaces {r['supersedes']})" if r["supersedes"] else ""))
        out.append(f"{len(rows)} record(s)")
        sys.stdout.write("\n".join(out) + "\n")
    return 0


def cmd_audit_policy(args: argparse.Namespace) -> int:
    from .ledger import LedgerError
    from .policy.catalogue import load_catalogue
    catalogue = load_catalogue(args.rules)
    try:
        with _open_ledger(args) as ledger:
            summary = ledger.policy_summary(args.policy_number, catalogue)
    except LedgerError as exc:
        return _ledger_error(exc)
    if args.format == "json":
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
        return 0
    out = [f"policy {_term(summary['policy_number'])}"]
    for per in summary["periods"]:
        out.append(f"  {per['programme']} period from {per['period_start']}")
        for p in per["pools"]:
            limit = "-" if p["limit"] is None else f"{p['limit']:,}"
            left = "-" if p["left"] is None else f"{p['left']:,}"
            out.append(f"    {p['pool']:<36} limit {limit:>14}  used {p['used']:>14,}  left {left:>14}  "
                       f"({p['label']['en']})")
        counted = {}
        for r in per["records"]:
            counted[r["claim_id"]] = r["seq"]
        for r in per["records"]:
            mark = "" if counted[r["claim_id"]] == r["seq"] else "  (replaced: not counted)"
            out.append(f"    record {r['seq']:>7}  {_term(r['claim_id']):<24} {r['recorded_at']}  payable "
                       f"{r['total_payable']:>14,}{mark}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    from .ledger import LedgerError
    try:
        with _open_ledger(args) as ledger:
            rows = ledger.export()
            first = next(rows, None)
            if args.format == "jsonl":
                for r in ([first] if first else []):
                    sys.stdout.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
                for r in rows:
                    sys.stdout.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
            else:
                import csv
                w = csv.writer(sys.stdout, lineterminator="\n")
                columns = sorted(first) if first else []
                w.writerow(columns)
                for r in ([first] if first else []):
                    w.writerow([_csv_cell(r[c]) for c in columns])
                for r in rows:
                    w.writerow([_csv_cell(r[c]) for c in columns])
    except LedgerError as exc:
        return _ledger_error(exc)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from .ledger import LedgerError
    try:
        with _open_ledger(args, create=args.users_command == "add") as ledger:
            if args.users_command == "add":
                token = ledger.add_user(args.name, args.role)
                print(f"user {args.name} ({args.role}) added; their API token, shown only this once:", file=sys.stderr)
                print(token)
            elif args.users_command == "list":
                users = ledger.list_users()
                if args.format == "json":
                    print(json.dumps(users, ensure_ascii=False, indent=1))
                else:
                    for u in users:
                        print(f"{_term(u['name']):<32} {u['role']:<12} {'disabled' if u['disabled'] else 'enabled':<9} "
                              f"{u['created_at']}")
            elif args.users_command == "disable":
                ledger.disable_user(args.name)
                print(f"user {args.name} disabled", file=sys.stderr)
            else:
                token = ledger.rotate_user(args.name)
                print(f"user {args.name}: new API token (the old one no longer works), shown only this once:",
                      file=sys.stderr)
                print(token)
    except LedgerError as exc:
        return _ledger_error(exc)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from .runs.replay import replay
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
    from .ledger import LedgerError
    from .runs.batch import InputError, run_batch
    from .runs.output import OutputError
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
        total, bad = run_batch(args.input, args.out, workers=args.workers, rules=args.rules, ledger=ledger,
                               recorded_by=cli_user(), stats=stats)
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
    from .runs.batch import InputError, read_inputs
    from .engine.rulebook import load_rulebook
    from .policy.catalogue import load_catalogue
    from .runs.diff import compare, describe, diff_one
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


def _yen(n: int) -> str:
    return f"{n:,}"


def cmd_plans(args: argparse.Namespace) -> int:
    from .policy.catalogue import load_catalogue, value
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

    from .policy.catalogue import load_catalogue
    from .policy.premium import quote
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
    from .engine.check import check_rulebook
    from .engine.rulebook import load_rulebook
    problems = check_rulebook(args.rules)
    if not problems:
        from .engine.examples import verify_examples
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
    from .engine.rulebook import RulebookError, load_rulebook
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


def cmd_serve(args: argparse.Namespace) -> int:
    import logging
    import os
    import secrets

    import uvicorn

    from .service.settings import Settings
    settings = Settings(ledger=args.ledger or os.environ.get("ADJUDICATOR_LEDGER"), rules=args.rules,
                        max_body=args.max_body, rulebooks=dict(_named_folder(v) for v in args.rulebook),
                        anchor_dir=args.anchor_dir, anchor_every=args.anchor_every, anchor_key_file=args.key_file,
                        # one secret for every worker's desk session cookies (kept for this run only)
                        secret=os.environ.get("ADJUDICATOR_DESK_SECRET") or secrets.token_urlsafe(32))
    os.environ.update(settings.to_env())  # each worker process builds its app from the environment
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    print(f"adjudicator serve: http://{args.host}:{args.port}/api/v1, desk http://{args.host}:{args.port}/desk/ja/ "
          f"(workers {args.workers})", file=sys.stderr,
          flush=True)
    uvicorn.run("adjudicator.service.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, access_log=False, log_level="warning")
    return 0


def _named_folder(text: str) -> tuple[str, str]:
    name, sep, folder = text.partition("=")
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(f"--rulebook: expected NAME=FOLDER, got {text!r}")
    return name, folder


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from .contract.schema import claim_schema
    sys.stdout.write(json.dumps(claim_schema(), ensure_ascii=False, indent=2) + "\n")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from .contract.claim import Facility
    from .contract.schema import claim_template
    import typing

    from .policy.catalogue import load_catalogue
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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    from .decide import ENGINE_VERSION
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
    p = argparse.ArgumentParser(prog="adjudicator", description=__doc__,
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
    ck_paid = cksub.add_parser("paid", help="the payment was made: the clock stops")
    ck_paid.add_argument("--on", help="YYYY-MM-DD (default: today)")
    for x in (ck_show, ck_done, ck_ext, ck_pause, ck_paid):
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
    b.add_argument("--workers", type=int, default=1, help="worker processes")
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
    sv.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sv.add_argument("--ledger", help="SQLite path or postgresql:// URL (default $ADJUDICATOR_LEDGER or the user data dir)")
    sv.add_argument("--workers", type=int, default=1, help="worker processes (the engine runs one claim at a time per process)")
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


# Start-up makes some 50,000 objects the cyclic garbage collector tracks, which live as long as the
# process (modules, pydantic's validators, the rulebook); the collector would walk them again and
# again while they are made (≈ 10 ms of one `adjudicate`, ≈ 12 ms of `rules check`: 70-odd
# collections). The short commands run with it paused; the two that then do real work (one claim's
# decision, the rule examples) call _started() first: what start-up made is moved out of the
# collector's way (gc.freeze) and collection resumes (≈ 2 ms left). main() restores the collector as it
# found it, so an in-process caller (the tests) sees no change.
_gc_paused = False
_SHORT_COMMANDS = ("adjudicate", "rules", "plans", "quote", "schema", "template")  # one claim at most


def _started() -> None:
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    global _gc_paused
    argv = sys.argv[1:] if argv is None else argv
    short = bool(argv) and argv[0] in _SHORT_COMMANDS
    collecting = gc.isenabled()
    if short and collecting:
        gc.disable()
        _gc_paused = True
    try:
        return _main(argv)
    finally:
        if short and collecting:
            if not _gc_paused:
                gc.unfreeze()
            _gc_paused = False
            gc.enable()


def _main(argv: list[str]) -> int:
    # A first argument that names a command is that command (nothing before it): build only its options.
    parser = build_parser(only=argv[0] if argv and not argv[0].startswith("-") else None)
    args = parser.parse_args(argv)
    if getattr(args, "func", None) in (cmd_audit_show, cmd_replay) and (args.id is None) == (args.seq is None):
        parser.error("name the record by claim id or by --seq N (one of the two)")
    rules, source = getattr(args, "rules", None), "--rules"
    if not rules:
        rules, source = os.environ.get("ADJUDICATOR_RULES"), "$ADJUDICATOR_RULES"
    if rules and not os.path.isdir(rules):
        return _fail_input([(source, f"no rulebook directory at {quote(rules)}")])
    try:
        return args.func(args)
    except Exception as exc:  # noqa: BLE001 - no stack trace reaches a user (ADJUDICATOR_DEBUG=1 shows it)
        # A gate refusal a command did not handle itself is still bad input. (The gate is imported only
        # by the commands that read claims: when it is not loaded, no ClaimError can have been raised.)
        gate = sys.modules.get(f"{__package__}.contract.load")
        if gate is not None and isinstance(exc, gate.ClaimError):
            return _fail_input(exc.problems)
        if os.environ.get("ADJUDICATOR_DEBUG"):
            raise
        print(f"adjudicator: internal error ({type(exc).__name__}); nothing was written "
              "(ADJUDICATOR_DEBUG=1 shows the trace)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
