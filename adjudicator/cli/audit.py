"""The ledger's audit trail: verify and anchor the hash chain, show, list and export records, a
policy's aggregate pools; and the service's user accounts kept in the same database."""
from __future__ import annotations

import argparse
import json
import os
import sys

from .common import _ledger_error, _open_ledger, _recorded, _table, _term


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from ..ledger import LedgerDamaged, LedgerError
    from ..ledger.chain import AnchorError, read_anchor, read_key
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
    from ..ledger import LedgerError
    from ..ledger.chain import AnchorError, default_key_file, read_key
    from ..runs.output import OutputError, atomic_output, check_output
    key_path = args.key_file or default_key_file()
    if args.out:  # before anything is written: never onto the ledger or the key (hostile probe 4)
        from ..ledger import default_target, is_url
        ledger_file = args.ledger or default_target()
        try:
            check_output(args.out, [], [("the key file", key_path)] +
                         ([] if is_url(ledger_file) else [("the ledger", ledger_file)]))
        except OutputError as exc:
            print(f"--out: {exc}", file=sys.stderr)
            return 2
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
        try:
            with atomic_output(args.out) as fh:   # whole or not at all; a FIFO or /dev/stdout in place
                fh.write(json.dumps(statement, sort_keys=True, indent=1) + "\n")
        except OutputError as exc:
            print(f"--out: {exc}", file=sys.stderr)
            return 2
        print(f"anchored {statement['count']} records, head {statement['head']} -> {args.out}", file=sys.stderr)
    else:
        print(json.dumps(statement, sort_keys=True, indent=1))
    return 0


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
    from ..documents.render import render
    doc = render(rec.decision, fmt=args.format, lang=args.lang, audit=True, claim=claim, book=book, catalogue=catalogue)
    header = _audit_header(rec, args.lang)
    if args.format == "html":
        import html
        cls = "meta" if rec.verified else "meta tampered"
        doc = doc.replace("<body>", f"<body>\n<p class=\"{cls}\">{html.escape(header)}</p>", 1)
    else:  # the header's values come from the ledger file: escaped like the document
        from ..documents.render import escape_line, escape_md
        escape = escape_md if args.format == "md" else escape_line
        doc = "\n".join(escape(line) for line in header.splitlines()) + "\n\n" + doc
    sys.stdout.write(doc)
    return 0 if rec.verified else 1


_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_MOMENT = _DAY + r"[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?"


def _when(value: str | None, field: str) -> str | None:
    """A --since/--until bound as the ledger compares it with recorded_at (UTC ISO text, microseconds):
    a date YYYY-MM-DD, or a date-time converted to UTC (one without an offset is UTC, as recorded_at is).
    Nothing else: 3.11's fromisoformat also reads 20260101 and 2026-W01-1, which compare wrongly as text."""
    import datetime as dt
    import re
    if value is None:
        return None
    try:
        if re.fullmatch(_DAY, value):
            return dt.date.fromisoformat(value).isoformat()
        if not re.fullmatch(_MOMENT, value):
            raise ValueError(value)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)
        if field == "until":  # on or before: the ledger's bound is exclusive
            moment += dt.timedelta(microseconds=1)
        return moment.isoformat(timespec="microseconds")
    except OverflowError:  # beyond 0001-01-01 .. 9999-12-31 in UTC
        if field == "until" and value.startswith("9999-"):
            return "9999-12-31"  # the last day: no upper bound
        raise ValueError(f"{field}: {value!r} is outside the dates a record can have") from None
    except ValueError:
        raise ValueError(f"{field}: expected a date YYYY-MM-DD or a date-time YYYY-MM-DDTHH:MM[:SS][+HH:MM], "
                         f"got {value!r}") from None


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
    from ..ledger import LedgerError
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
        cells = [[str(r["seq"]), r["recorded_at"], _term(r["claim_id"]), _term(r["policy_number"] or "-"),
                  r["programme"], f"{r['total_payable']:,}",
                  _term(r["recorded_by"] or "-") + (f"  (replaces {r['supersedes']})" if r["supersedes"] else "")]
                 for r in rows]
        out = _table(["seq", "recorded_at", "claim_id", "policy", "programme", "payable", "by"], cells, right={0, 5})
        out.append(f"{len(rows)} record(s)")
        sys.stdout.write("\n".join(out) + "\n")
    return 0


def cmd_audit_policy(args: argparse.Namespace) -> int:
    from ..ledger import LedgerError
    from ..policy.catalogue import load_catalogue
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
    from ..ledger import LedgerError
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
    from ..ledger import LedgerError
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
