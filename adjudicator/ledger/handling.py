"""What happens to a recorded decision after it is recorded (issue 20): the second review (二次査定)
and the payment clock (000 §18, 004 「万一事故にあわれたら」). Pure functions over a claim's handling
state; base.py writes each step as a ledger record in the hash chain and keeps the state in the
`claim_state` side table the work list reads.

The state of a claim after a record (kept, hashed, in the record's event_json as "state"):
  handler        the account that recorded the decision (the one that may not review it)
  decision_seq   the record of the decision
  total_payable, needs   from the decision
  review         {"state": none | pending_review | approved | returned, "why": [...], "by", "at", "note"}
  clock          {"completed_on", "extension": {"reason", "to", "agreed_on"} | null,
                  "pauses": [{"from", "to", "days"}], "paused_days", "due_on", "paid_on",
                  "paid_amount" (the yen the recorded payments came to),
                  "paid_before": [{"paid_on", "total_payable"}] (payments of an earlier decision of the claim
                  that a re-adjudication raised: the difference is due again)}
  unclaimed      the decision's unclaimed_benefits (請求案内漏れ), each with its key programme:coverage and
                 the handler's mark once recorded: {"action": told (案内済) | declined (請求しない), "on", "by", "at"}
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ..contract.limits import DATE_MAX, DATE_MIN
from ..contract.text import invisible_char, quote, unsafe_char
from ..policy.catalogue import Catalogue

REVIEW_STATES = ("none", "pending_review", "approved", "returned")
FINAL = ("none", "approved")
# 000 §18 / 004 「万一事故にあわれたら」: the five reasons that allow a longer period (協議のうえ延長)
EXTENSION_REASONS = ("public_investigation", "expert_appraisal", "disaster_area", "abroad", "special_claim")
DEFAULT_WHEN = ("refusal", "cut")
# Coverage statuses that refuse what a line claimed (needs_information holds it back: not a refusal).
REFUSING = ("not_covered", "excluded")
NOTE_CHARS = 2000        # a reviewer's note (二次査定の所見)
PAUSE_NOTE_CHARS = 500   # why the insured's delay stops the clock


class HandlingError(ValueError):
    """'field: message' - a handling step that cannot be taken (bad date, nothing pending, ...)."""


class NotYours(HandlingError):
    """The account may not take this step (it recorded the decision it would review)."""


class Stale(HandlingError):
    """The step names a decision that is no longer the claim's latest (re-adjudicated meanwhile)."""


def _date(value: Any, field: str) -> dt.date:
    """A handling date within the claim file's bounds: a year-1 or year-9999 date is a typing error and
    would overflow the due date (hostile probe)."""
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            raise HandlingError(f"{field}: expected a date YYYY-MM-DD, got {quote(str(value))}") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise HandlingError(f"{field}: {day.isoformat()} is outside {DATE_MIN.isoformat()} .. {DATE_MAX.isoformat()}")
    return day


def _note(value: Any, field: str, limit: int, lines: bool) -> str | None:
    """A free-text note, refused (not cut) when too long or holding control, bidi or zero-width
    characters; a review note may run over several lines (CRLF read as LF)."""
    note = str(value or "").replace("\r\n", "\n").strip()
    if len(note) > limit:
        raise HandlingError(f"{field}: at most {limit:,} characters, got {len(note):,}")  # the contract's words
    bad = unsafe_char(note.replace("\n", " ") if lines else note, allow_ideographic_space=True)
    if bad is None:
        bad = invisible_char(note)  # shows nothing: a blank-looking note must not pass for one
    if bad is not None:
        raise HandlingError(f"{field}: no control, bidi or zero-width characters, nor invisible ones; "
                            f"U+{ord(note[bad]):04X} at position {bad + 1}")
    return note or None


def _completed_before_pauses(clock: dict, day: str, field: str, hint: str = "") -> None:
    """A completion date must not come after a recorded pause's start (pauses start on or after it)."""
    first = min((p["from"] for p in clock.get("pauses") or []), default=None)
    if first is not None and day > first:
        raise HandlingError(f"{field}: a pause from {first} is recorded: the claim was completed before it{hint}")


def _payment_day(value: Any, field: str, completed_on: str, today: dt.date | None) -> str:
    """A payment date: within the bounds, not before the completed claim, not after today."""
    day = _date(value, field)
    if day.isoformat() < completed_on:
        raise HandlingError(f"{field}: {day.isoformat()} is before the claim was completed ({completed_on})")
    if today is not None and day > today:
        raise HandlingError(f"{field}: {day.isoformat()} is after today ({today.isoformat()}): record a payment "
                            f"once it is made")
    return day.isoformat()


def _same_decision(state: dict, shown: int | None, why: str) -> None:
    """The decision record the caller read (None: not named) must still be the claim's decision."""
    if shown is not None and shown != state.get("decision_seq"):
        raise Stale(f"decision_seq: the claim's decision is now record {state.get('decision_seq')}, not "
                    f"{shown}: it was re-adjudicated; {why}")


def review_need(decision: dict, catalogue: Catalogue) -> list[dict]:
    """Why the decision needs a second review: [] when it needs none.

    A decision needs review when it refuses or cuts a claimed amount for a reason other than the
    policy's own limits, co-insurance and deductibles: a loss line whose amount the decision refuses -
    a line step `refused` (no coverage takes it) or `coverage_not_payable` with status not_covered or
    excluded - or, for a programme of fixed support payments (no loss lines), no support paid while a
    support coverage is not_covered or excluded. The waterfall's steps (limits, sublimits,
    co-insurance, deductibles, aggregates, combined caps: `limits_applied`) never need review, nor does
    a coverage held back for needs_information. `refusal`: the decision pays nothing; `cut`: it pays
    something. The programme's `second_review.when` (rules/programmes/*.yaml) says which of the two
    need review; without it both do."""
    prog = catalogue[decision["programme"]] if decision.get("programme") in catalogue.programmes else None
    spec = (prog.data.get("second_review") if prog is not None else None) or {}
    when = tuple(spec.get("when", DEFAULT_WHEN))
    kind = "refusal" if decision.get("total_payable", 0) == 0 else "cut"
    if kind not in when:
        return []
    why: list[dict] = []
    for ln in decision.get("lines") or []:
        if not ln.get("claimed"):
            continue
        for s in ln.get("steps") or []:
            refusing = s.get("step") == "refused" or (s.get("step") == "coverage_not_payable"
                                                     and s.get("status") in REFUSING)
            if refusing and s.get("cut", 0) > 0:
                why.append({"kind": kind, "line": ln.get("index"), "category": ln.get("category"),
                            "coverage": ln.get("coverage"), "status": s.get("status", "refused"),
                            "clause": s.get("clause"), "amount": s["cut"]})
    if prog is not None and not prog.plans and not decision.get("lines"):  # fixed support payments
        covs = decision.get("coverages") or {}
        if not any(c["status"] == "covered" for c in covs.values()) and not decision.get("needs_information"):
            for cov, c in covs.items():
                if c["status"] in REFUSING:
                    why.append({"kind": kind, "line": None, "category": None, "coverage": cov,
                                "status": c["status"], "clause": (c.get("reasons") or [{}])[0].get("clause"),
                                "amount": None})
    return why


def _empty_clock() -> dict:
    return {"completed_on": None, "extension": None, "pauses": [], "paused_days": 0, "due_on": None, "paid_on": None}


def due_on(clock: dict, days: int) -> str | None:
    """30 days (the programme's payment_clock) from the completed claim, or the extension's agreed date;
    moved later by every pause the insured caused."""
    if not clock.get("completed_on"):
        return None
    ext = clock.get("extension")
    try:  # stored dates are read as stored (a record made before the bounds may hold any date)
        base = dt.date.fromisoformat(ext["to"]) if ext and ext.get("to") else \
            dt.date.fromisoformat(clock["completed_on"]) + dt.timedelta(days=days)
        return (base + dt.timedelta(days=int(clock.get("paused_days") or 0))).isoformat()
    except OverflowError:
        return DATE_MAX.isoformat()


BENEFIT_ACTIONS = ("told", "declined")  # 案内済 (the claimant was told) / 請求しない (they declined)


def benefit_key(entry: dict) -> str:
    return f"{entry.get('programme')}:{entry.get('coverage')}"


def _unclaimed(previous: dict | None, decision: dict) -> list[dict]:
    """The decision's unclaimed benefits, each keeping the mark an earlier record of the claim gave the
    same benefit (a re-adjudication does not make the handler tell the claimant twice)."""
    marks = {u["key"]: u.get("mark") for u in (previous or {}).get("unclaimed") or []}
    out = []
    for entry in decision.get("unclaimed_benefits") or []:
        key = benefit_key(entry)
        out.append({"key": key, "programme": entry.get("programme"), "coverage": entry.get("coverage"),
                    "label": entry.get("label"), "amount": entry.get("amount"), "mark": marks.get(key)})
    return out


def unmarked(state: dict) -> int:
    """How many unclaimed benefits the handler has not yet marked told or declined."""
    return sum(1 for u in state.get("unclaimed") or [] if not u.get("mark"))


def benefit_step(state: dict, key: str, action: str, on: Any, by: str, at: str) -> tuple[dict, dict]:
    """(event, new state) of marking one unclaimed benefit: told (案内済) or declined (請求しない), with the date."""
    if action not in BENEFIT_ACTIONS:
        raise HandlingError(f"action: expected told or declined, got {str(action)[:40]!r}")
    day = _date(on, "on").isoformat()
    entries = [dict(u) for u in state.get("unclaimed") or []]
    hit = next((u for u in entries if u["key"] == key), None)
    if hit is None:
        known = ", ".join(u["key"] for u in entries) or "none"
        raise HandlingError(f"benefit: the decision lists no unclaimed benefit {str(key)[:80]!r} (it lists: {known})")
    hit["mark"] = {"action": action, "on": day, "by": by, "at": at}
    return {"type": "benefit", "key": key, "action": action, "on": day}, dict(state, unclaimed=entries)


def paid_amount(clock: dict, total_payable: int) -> int:
    """The yen the recorded payments of a claim came to (0: none): `paid_amount`, or for a clock written
    before it was kept, the total the claim owed when it was paid."""
    if clock.get("paid_amount") is not None:
        return int(clock["paid_amount"])
    before = [int(p["total_payable"]) for p in clock.get("paid_before") or []]
    return max(before + ([int(total_payable or 0)] if clock.get("paid_on") else []), default=0)


def _file_payment(clock: dict, payment: dict, decision: dict, why: list, today: dt.date | None) -> None:
    """The claim file's own `payment` section, for a claim whose clock does not hold it yet: the same
    checks as the clock's steps (a file would else record a payment of 2045, or one before completion,
    and stop the clock for good; hostile probe). Once the clock holds a date, or once any clock step was
    recorded (`steps`), only the clock's steps change it: a payment or an extension taken back stays taken
    back when the same file is re-adjudicated."""
    if clock.get("steps"):
        return
    if payment.get("completed_on") and not clock.get("completed_on"):
        day = _date(payment["completed_on"], "payment.completed_on").isoformat()
        _completed_before_pauses(clock, day, "payment.completed_on")
        clock["completed_on"] = day
    if payment.get("delay_reason") and not clock.get("extension"):
        clock["extension"] = {"reason": str(payment["delay_reason"]), "to": None, "agreed_on": None}
    # a payment date only on a decision final as recorded that pays something and was not paid before:
    # else the file alone would stop the clock past the second review, or again at an old date on a raised
    # amount; `clock paid` records it later
    if payment.get("paid_on") and not why and decision["total_payable"] > 0 and not clock.get("paid_amount") \
            and not clock.get("paid_before"):
        if not clock.get("completed_on"):
            raise HandlingError("payment.paid_on: give payment.completed_on (請求完了日) with the payment date")
        clock["paid_on"] = _payment_day(payment["paid_on"], "payment.paid_on", clock["completed_on"], today)
        clock["paid_amount"] = decision["total_payable"]


def decision_state(previous: dict | None, decision: dict, given: dict, catalogue: Catalogue, seq: int,
                   recorded_by: str, today: dt.date | None = None, check: bool = True) -> dict:
    """The state after a decision is recorded (first time or re-adjudicated): a fresh review
    requirement; the clock carried over from the claim's earlier state, the claim file's own `payment`
    section filling what the clock does not hold yet (_file_payment). What was paid is kept in yen
    (`paid_amount`): a re-adjudication that raises the payable above it runs the clock again for the
    difference (the payment moves to `paid_before`); one at or below it is paid (check=False: a record
    of an old schema read back as it was recorded, unchecked)."""
    why = review_need(decision, catalogue)
    clock = dict(previous["clock"]) if previous else _empty_clock()
    total = decision["total_payable"]
    paid = paid_amount(clock, int(previous.get("total_payable") or 0)) if previous else 0
    if paid:
        clock["paid_amount"] = paid
        before = list(clock.get("paid_before") or [])
        if clock.get("paid_on") and total > paid:
            # what was paid stays on the record; the clock runs again for the difference (else the extra
            # yen would show as paid and could never be recorded)
            clock["paid_before"] = before + [{"paid_on": clock["paid_on"], "total_payable": paid}]
            clock["paid_on"] = None
        elif not clock.get("paid_on") and total <= paid and before:
            # lowered again to what was paid: paid, as of that payment (no second payment is due)
            clock["paid_on"], clock["paid_before"] = before[-1]["paid_on"], before[:-1]
    payment = given.get("payment") if isinstance(given, dict) and isinstance(given.get("payment"), dict) else {}
    if check:
        _file_payment(clock, payment, decision, why, today)
    else:  # read back as it was recorded then
        clock["completed_on"] = str(payment["completed_on"]) if payment.get("completed_on") else clock["completed_on"]
        if payment.get("paid_on") and not why and total > 0:
            clock["paid_on"] = str(payment["paid_on"])
    clock["due_on"] = due_on(clock, catalogue.payment_clock_days(decision["programme"]))
    return {"handler": recorded_by, "decision_seq": seq, "total_payable": total,
            "needs": len(decision.get("needs_information") or []),
            "review": {"state": "pending_review" if why else "none", "why": why, "by": None, "at": None, "note": None},
            "clock": clock, "unclaimed": _unclaimed(previous, decision)}


def legacy_state(decision: dict, given: dict, catalogue: Catalogue | None, seq: int, recorded_by: str | None) -> dict:
    """The state of a record written before schema version 3 (no review existed: final as recorded)."""
    state = decision_state(None, decision, given, catalogue, seq, recorded_by or "", check=False) \
        if catalogue is not None \
        and decision.get("programme") in catalogue.programmes else None
    if state is None:
        state = {"handler": recorded_by, "decision_seq": seq, "total_payable": decision.get("total_payable", 0),
                 "needs": len(decision.get("needs_information") or []), "clock": _empty_clock(), "unclaimed": []}
    state["review"] = {"state": "none", "why": [], "by": None, "at": None, "note": None}
    return state


def review_step(state: dict, action: str, note: str | None, by: str, at: str,
                decision_seq: int | None = None) -> tuple[dict, dict]:
    """(event, new state) of a second review: approve (final) or return to the first handler with a note.
    `decision_seq`, the record the reviewer read: refused when the claim was re-adjudicated since, so an
    approval cannot land on a decision the reviewer never saw."""
    if action not in ("approve", "return"):
        raise HandlingError(f"action: expected approve or return, got {quote(str(action))}")
    note = _note(note, "note", NOTE_CHARS, lines=True) or ""
    if action == "return" and not note:
        raise HandlingError("note: say why the decision goes back to its handler")
    _same_decision(state, decision_seq, "read it before reviewing")
    review = state["review"]
    if review["state"] != "pending_review":
        raise HandlingError(f"review: the decision is not waiting for a second review (its review state is "
                            f"{review['state']})")
    if by == state.get("handler"):
        raise NotYours(f"review: {by} recorded this decision; another handler account must review it")
    new = dict(state, review=dict(review, state="approved" if action == "approve" else "returned", by=by, at=at,
                                  note=note or None))
    event = {"type": "review", "action": action, "note": note or None}
    if decision_seq is not None:
        event["decision_seq"] = decision_seq
    return event, new


def clock_step(state: dict, action: str, values: dict, days: int, today: dt.date | None = None) -> tuple[dict, dict]:
    """(event, new state) of a payment-clock step:
    complete {completed_on}; extend {reason (one of the five), to (the agreed new due date), agreed_on?};
    pause {from, to, note?} (a delay the insured caused: the due date moves by its days); remove_pause {from}
    (a pause recorded in error is taken back: both records stay in the chain); remove_extension {} and
    remove_paid {} likewise (a completion also drops an extension that ends before its new due date);
    paid {paid_on} (only of a
    final decision that pays something: a payment of nothing would close the clock on nothing; not before
    the claim was completed nor after today)."""
    clock = dict(state["clock"])
    clock["pauses"] = list(clock.get("pauses") or [])
    clock["steps"] = int(clock.get("steps") or 0) + 1  # from now on the clock's steps alone change it
    event: dict[str, Any] = {"type": "clock", "action": action}
    if action == "remove_paid":  # a payment recorded in error (a wrong date, too early): both records stay
        before = list(clock.get("paid_before") or [])
        if clock.get("paid_on"):
            event["paid_on"], clock["paid_on"] = clock["paid_on"], None
        elif before:  # reopened by a raise: the earlier payment itself is the one taken back
            event["paid_on"] = before.pop()["paid_on"]
            clock["paid_before"] = before
        else:
            raise HandlingError("paid_on: no payment is recorded")
        clock["paid_amount"] = max((int(p["total_payable"]) for p in before), default=None)
        clock["due_on"] = due_on(clock, days)
        return event, dict(state, clock=clock)
    if clock.get("paid_on"):
        raise HandlingError(f"paid_on: the payment was recorded ({clock['paid_on']}): the clock has stopped "
                            f"(remove_paid takes back one recorded in error)")
    if action == "complete":
        day = _date(values.get("completed_on"), "completed_on")
        _completed_before_pauses(clock, day.isoformat(), "completed_on",
                                 " (remove the pause first if it was recorded in error)")
        clock["completed_on"] = event["completed_on"] = day.isoformat()
        ext = clock.get("extension") or {}
        if ext.get("to") and _date(ext["to"], "to") <= day + dt.timedelta(days=days):
            # an extension only lengthens the period: one ending before the new due date no longer applies
            event["extension_dropped"], clock["extension"] = ext, None
    elif action in ("extend", "pause", "remove_pause", "remove_extension", "paid") and not clock.get("completed_on"):
        raise HandlingError("completed_on: record the day the claim was completed (請求完了日) first")
    elif action == "extend":
        reason = values.get("reason")
        if reason not in EXTENSION_REASONS:
            raise HandlingError(f"reason: expected one of {', '.join(EXTENSION_REASONS)}, got {str(reason)[:40]!r}")
        to = _date(values.get("to"), "to")
        base = _date(clock["completed_on"], "completed_on") + dt.timedelta(days=days)
        if to <= base:
            raise HandlingError(f"to: an extension ends after the {days}-day due date ({base.isoformat()})")
        agreed = values.get("agreed_on")
        agreed = _date(agreed, "agreed_on") if agreed else None
        if agreed is not None and (agreed.isoformat() < clock["completed_on"] or agreed > to
                                   or (today is not None and agreed > today)):
            raise HandlingError(f"agreed_on: {agreed.isoformat()} is not between the completed claim "
                                f"({clock['completed_on']}) and the earlier of today and the new due date")
        agreed = agreed.isoformat() if agreed else None
        clock["extension"] = {"reason": reason, "to": to.isoformat(), "agreed_on": agreed}
        event.update(reason=reason, to=to.isoformat(), agreed_on=agreed)
    elif action == "pause":
        start, end = _date(values.get("from"), "from"), _date(values.get("to"), "to")
        if end <= start:
            raise HandlingError("to: a pause ends after it starts")
        if start < _date(clock["completed_on"], "completed_on"):
            raise HandlingError("from: a pause starts on or after the day the claim was completed")
        for p in clock["pauses"]:
            if start < _date(p["to"], "to") and _date(p["from"], "from") < end:
                raise HandlingError(f"from: overlaps the pause {p['from']} - {p['to']} already recorded")
        pause = {"from": start.isoformat(), "to": end.isoformat(), "days": (end - start).days}
        note = _note(values.get("note"), "note", PAUSE_NOTE_CHARS, lines=False)
        if note:
            pause["note"] = note
        clock["pauses"].append(pause)
        clock["paused_days"] = sum(p["days"] for p in clock["pauses"])
        event.update(pause)
    elif action == "remove_extension":  # an extension recorded in error: both records stay in the chain
        if not (clock.get("extension") or {}).get("to"):
            raise HandlingError("to: no extension is recorded")
        event["extension"], clock["extension"] = clock["extension"], None
    elif action == "remove_pause":
        start = _date(values.get("from"), "from").isoformat()
        kept = [p for p in clock["pauses"] if p["from"] != start]
        if len(kept) == len(clock["pauses"]):
            recorded = ", ".join(f"{p['from']} - {p['to']}" for p in clock["pauses"]) or "none"
            raise HandlingError(f"from: no pause from {start} is recorded (recorded: {recorded})")
        clock["pauses"] = kept
        clock["paused_days"] = sum(p["days"] for p in kept)
        event["from"] = start
    elif action == "paid":
        if state["review"]["state"] not in FINAL:
            raise HandlingError("paid_on: the decision is not final (second review pending or returned): "
                                "no payment before it is approved")
        if not state.get("total_payable"):  # a refusal (or a decision holding everything back) has nothing to pay
            raise HandlingError("paid_on: the decision pays nothing (total_payable 0): there is no payment to "
                                "record; re-adjudicate the claim when it pays")
        day = _payment_day(values.get("paid_on") or (today or dt.date.today()), "paid_on", clock["completed_on"],
                           today)
        # the decision the payment was made on, when the caller names it
        _same_decision(state, values.get("decision_seq"), "the payment would be counted against another amount")
        clock["paid_on"] = event["paid_on"] = day
        clock["paid_amount"] = event["paid_amount"] = int(state["total_payable"])
    else:
        raise HandlingError(f"action: expected complete, extend, pause, remove_pause, remove_extension, paid or "
                            f"remove_paid, got {quote(str(action))}")
    clock["due_on"] = due_on(clock, days)
    return event, dict(state, clock=clock)


def is_draft(state: dict | None) -> bool:
    """Documents of a decision still waiting for (or sent back from) its second review say 案 / draft."""
    return bool(state) and state.get("review", {}).get("state") not in FINAL
