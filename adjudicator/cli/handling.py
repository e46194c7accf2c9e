"""Handling a recorded claim: the second review (二次査定), the payment clock, unclaimed benefits
(請求案内) and the handler's worklist."""
from __future__ import annotations

import argparse
import datetime as dt
import json

from ..contract.text import quote
from .common import _fail_input, _ledger_error, _open_ledger, _term, cli_user


def _handling_out(args: argparse.Namespace, seq: int | None, state: dict) -> int:
    if getattr(args, "format", "text") == "json":
        print(json.dumps({"seq": seq, **state} if seq is not None else state, ensure_ascii=False, indent=2))
        return 0
    review, clock = state["review"], state["clock"]
    head = f"record {seq}: " if seq is not None else ""
    note = (review.get("note") or "").replace("\n", " / ")  # one line: a note cannot forge an output line
    print(_term(f"{head}{state['claim_id']}: decision record {state.get('decision_seq')}, review {review['state']}"
                + (f" by {review['by']} at {review['at']}" if review.get("by") else "")
                + (f" (note: {note})" if note else "")
                + f"; handler {state.get('handler')}"))
    ext = clock.get("extension") or {}
    print(_term(f"  completed {clock.get('completed_on') or '-'}, due {clock.get('due_on') or '-'}"
                + (f", extended ({ext['reason']}) to {ext['to']}" if ext.get("to") else "")
                + (f", paused {clock['paused_days']} day(s)" if clock.get("paused_days") else "")
                + (f", paid {clock['paid_on']}" if clock.get("paid_on") else "")
                + "".join(f", paid before {p['paid_on']} (of {p['total_payable']:,} yen)"
                          for p in clock.get("paid_before") or [])))
    for u in state.get("unclaimed") or []:
        mark = u.get("mark")
        print(_term(f"  unclaimed benefit {u['key']}: "
                    + (f"{mark['action']} on {mark['on']} by {mark['by']}" if mark else "not yet told or declined")))
    return 0


def cmd_benefit(args: argparse.Namespace) -> int:
    """請求案内: mark an unclaimed benefit of the recorded decision told (案内済) or declined (請求しない)."""
    from ..ledger import LedgerError
    try:
        with _open_ledger(args) as ledger:
            seq, state = ledger.mark_benefit(args.claim_id, args.benefit, "told" if args.told else "declined",
                                             args.on or dt.date.today().isoformat(), by=cli_user())
    except LedgerError as exc:
        return _ledger_error(exc)
    return _handling_out(args, seq, state)


def cmd_review(args: argparse.Namespace) -> int:
    """二次査定: approve or return a recorded decision; not by the account (cli:<user>) that recorded it."""
    from ..ledger import LedgerError
    try:
        with _open_ledger(args) as ledger:
            seq, state = ledger.review(args.claim_id, "approve" if args.approve else "return", args.note,
                                       by=cli_user(), decision_seq=args.decision)
    except LedgerError as exc:
        return _ledger_error(exc)
    return _handling_out(args, seq, state)


def cmd_clock(args: argparse.Namespace) -> int:
    """The payment clock (000 §18): complete, extend, pause, paid; or show it."""
    from ..ledger import LedgerError
    from ..policy.catalogue import load_catalogue
    values = {k: v for k, v in {"completed_on": getattr(args, "on", None) if args.action == "complete" else None,
                                "paid_on": getattr(args, "on", None) if args.action == "paid" else None,
                                "reason": getattr(args, "reason", None), "to": getattr(args, "to", None),
                                "from": getattr(args, "from_", None), "agreed_on": getattr(args, "agreed_on", None),
                                "note": getattr(args, "note", None)}.items() if v is not None}
    try:
        with _open_ledger(args) as ledger:
            if args.action == "show":
                return _handling_out(args, None, ledger.state(args.claim_id))
            seq, state = ledger.clock(args.claim_id, args.action.replace("-", "_"), values, load_catalogue(args.rules), by=cli_user())
    except LedgerError as exc:
        return _ledger_error(exc)
    return _handling_out(args, seq, state)


def cmd_worklist(args: argparse.Namespace) -> int:
    """Open claims by due date, overdue first; 未払 marks a payable amount unpaid past its due date."""
    from ..ledger import LedgerError
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
