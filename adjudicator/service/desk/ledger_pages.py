"""Desk pages 4 and 5: the ledger (search, export, policy pools, record with its hash and the chain,
replay) and the handler's work list with the 000 §18 payment due dates."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from ...contract.load import ClaimError
from ...ledger.base import PAYMENT_STATUSES, payment_status
from ...documents.render import render
from ...ledger import LedgerDamaged, LedgerError, LedgerForbidden, LedgerUnavailable
from ...ledger import handling
from ...ledger.handling import EXTENSION_REASONS, is_draft
from ...ledger.chain import record_hash
from ...policy.claims import parse_claim
from ...runs.replay import replay
from ..context import ENGINE_LOCK, Context
from . import common as r
from . import forms

router = APIRouter(include_in_schema=False)
PAGE = 50
EXPORT_MAX = 100_000
DELAY_REASONS = list(EXTENSION_REASONS)

_DOWN = (LedgerUnavailable, LedgerDamaged)


def _ctx(request: Request) -> Context:
    return r.desk(request).ctx


def _criteria(q: dict) -> dict:
    out = {}
    for key in ("policy_number", "claim_id", "date_from", "date_to", "status"):
        v = str(q.get(key) or "").strip()[:100]
        if v:
            out[key] = v
    for key in ("date_from", "date_to"):
        if key in out:  # YYYY-MM-DD only (3.11's fromisoformat also reads 20260101 and 2026-W01-1), passed on
            out[key] = _day(out[key], key)  # as the ledger compares it with recorded_at: as text
    if out.get("status") and out["status"] not in PAYMENT_STATUSES:
        out.pop("status")
    return out


def _day(text: str, key: str) -> str:
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError(text)
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise r.DeskError(422, "bad_date", f"{key}: {text}") from None


# ---------------------------------------------------------------------------- 4. ledger
@router.get("/desk/{lang}/ledger")
def ledger_search(request: Request, lang: str, page: int = 1):
    lang = r._lang(lang)
    r.user_of(request, lang, "read_ledger")
    crit = _criteria(dict(request.query_params))
    page = max(1, min(page, 1_000_000))
    total, rows = _ctx(request).ledger().search(**crit, limit=PAGE, offset=(page - 1) * PAGE)
    pages = max(1, -(-total // PAGE))
    query = "&".join(f"{k}={r.quote(v)}" for k, v in crit.items())
    return r.page(request, "ledger.html", lang, crit=crit, rows=[_row(x) for x in rows], total=total, page=page,
                  pages=pages, query=query, statuses=PAYMENT_STATUSES)


def _row(x: dict) -> dict:
    """A ledger search row (its `status` is the ledger's payment_status: a refusal, paying nothing and
    asking for nothing, is nothing_payable, never 未払) with the day it was recorded."""
    return dict(x, recorded_on=x["recorded_at"][:10])


@router.get("/desk/{lang}/ledger/export")
def ledger_export(request: Request, lang: str, format: str = "csv"):
    lang = r._lang(lang)
    r.user_of(request, lang, "read_ledger")
    crit = _criteria(dict(request.query_params))
    total, rows = _ctx(request).ledger().search(**crit, limit=EXPORT_MAX)
    cols = ["seq", "claim_id", "policy_number", "programme", "period_start", "recorded_at", "recorded_by",
            "supersedes", "total_payable", "needs", "completed_on", "delay_reason", "paid_on"]
    rows = [dict(_row(x), status=_row(x)["status"]) for x in rows]
    cols.append("status")
    if format == "jsonl":
        body = "".join(json.dumps({c: x.get(c) for c in cols}, ensure_ascii=False) + "\n" for x in rows)
        return Response(body, media_type="application/x-ndjson; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="ledger.jsonl"'})
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for x in rows:
        w.writerow([_csv_cell(x.get(c)) for c in cols])
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="ledger.csv"'})


def _csv_cell(v: Any) -> Any:
    """No cell a spreadsheet would run as a formula."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return "" if v is None else v


@router.get("/desk/{lang}/ledger/policy/{policy_number:path}")  # a policy number may hold "/"
def policy_page(request: Request, lang: str, policy_number: str):
    lang = r._lang(lang)
    r.user_of(request, lang, "read_ledger")
    ctx = _ctx(request)
    led = ctx.ledger()
    total, rows = led.search(policy_number=policy_number[:100], limit=1000)
    if not rows:
        raise r.DeskError(404, "not_found", policy_number)
    groups: dict[tuple, dict] = {}
    for x in sorted(rows, key=lambda x: x["seq"]):
        rec = led.find(seq=x["seq"])
        key = (x["programme"], x["period_start"])
        g = groups.setdefault(key, {"programme": ctx.catalogue[x["programme"]].label[lang], "period": x["period_start"],
                                    "claims": [], "pools": {}, "latest": rec})
        g["latest"] = rec
        g["claims"].append({"seq": rec.seq, "claim_id": rec.claim_id, "total": rec.decision["total_payable"],
                            "by_key": _by_key(ctx, rec), "status": _row(x)["status"]})
    views = []
    for (pid, _), g in groups.items():
        prog = ctx.catalogue[pid]
        try:
            claim = parse_claim(g["latest"].effective, ctx.catalogue)
        except ClaimError:
            claim = None
        pools = []
        # the aggregate pools and the combined caps over them (e.g. 004 §5 注①): both carry what was paid
        caps = [p for p in prog.data.get("pools", {}).values() if p.get("aggregate")] + \
            [dict(c, combined=True) for c in prog.data.get("combined_caps", [])]
        for pool in caps:
            if claim is None:
                continue
            limit, _ref = prog.limit_source(claim.policy.plan, claim, pool["limit"])
            uses = [{"seq": c["seq"], "claim_id": c["claim_id"],
                     "amount": sum(c["by_key"].get(k, 0) for k in pool["prior_payments"])} for c in g["claims"]]
            used = sum(u["amount"] for u in uses)
            pools.append({"label": pool["label"][lang], "limit": limit, "used": used, "ref": pool.get("reference", ""),
                          "left": None if limit is None else max(limit - used, 0),
                          "uses": [u for u in uses if u["amount"]]})
        views.append({"programme": g["programme"], "period": g["period"], "pools": pools, "claims": g["claims"]})
    return r.page(request, "policy.html", lang, policy_number=policy_number, groups=views)


def _by_key(ctx: Context, rec) -> dict[str, int]:
    prog = ctx.catalogue[rec.decision["programme"]]
    out: dict[str, int] = {}
    for cov, entry in rec.decision["coverages"].items():
        key = prog.coverages.get(cov, {}).get("prior_payments_key")
        if key:
            out[key] = out.get(key, 0) + entry["payable"]
    return out


def _record(ctx: Context, seq: int):
    try:
        return ctx.ledger().find(seq=int(seq))
    except _DOWN:  # the service's trouble: the app's 503 page
        raise
    except LedgerError:
        raise r.DeskError(404, "not_found", seq) from None


@router.get("/desk/{lang}/ledger/records/{seq}")
async def record_page(request: Request, lang: str, seq: int):
    lang = r._lang(lang)
    r.user_of(request, lang, "read_ledger")
    return await _record_view(request, lang, seq)


async def _record_view(request: Request, lang: str, seq: int, replayed: dict | None = None, chain=None,
                       errors: dict | None = None, values: dict | None = None, status: int = 200):
    ctx = _ctx(request)
    rec = _record(ctx, seq)
    led = ctx.ledger()
    own_state = led.state_at(rec)
    try:
        current = led.state(rec.claim_id)
    except _DOWN:  # the service's trouble: the app's 503 page
        raise
    except LedgerError:
        current = None
    row = rec.row
    hash_ok = record_hash(row) == row["hash"]  # its content is what was hashed
    if rec.seq == 1:
        link_ok = True
    else:  # it follows the record before it
        before = _previous(ctx, rec.seq)
        link_ok = before is not None and before.row["hash"] == row["prev_hash"]

    def work() -> str:
        try:
            claim = parse_claim(rec.effective, ctx.catalogue)
        except ClaimError:
            claim = None
        with ENGINE_LOCK:
            return render(rec.decision, fmt="html", lang=lang, audit=True, claim=claim, book=ctx.book,
                          catalogue=ctx.catalogue, draft=is_draft(own_state))
    html = await run_in_threadpool(work)
    sess = r.session_of(request) or {}
    # the decision this record shows: its own (a handling step carries its claim's decision), so a review
    # form is offered only on the page of the claim's current decision, never on an older one (N5)
    shown_decision = (own_state or {}).get("decision_seq") or rec.seq
    return r.page(request, "record.html", lang, status=status, rec=rec, row=row, hash_ok=hash_ok, link_ok=link_ok,
                  document=r.document_body(html), replayed=replayed, chain=chain,
                  rec_status=payment_status(len(rec.decision["needs_information"]),
                                            ((own_state or {}).get("clock") or {}).get("paid_on")
                                            or (rec.input.get("payment") or {}).get("paid_on"),
                                            rec.decision["total_payable"]),
                  state=current, own_state=own_state, draft=is_draft(own_state), me=sess.get("user"),
                  shown_decision=shown_decision,
                  event=json.loads(row["event_json"])["event"] if row.get("event_json") else None,
                  errors=errors or {}, values=values or {}, reasons=DELAY_REASONS,
                  timing=r.desk(request).labels.payment_timing)


def _previous(ctx: Context, seq: int):
    try:
        return ctx.ledger().find(seq=seq - 1)
    except _DOWN:  # the service's trouble: the app's 503 page
        raise
    except LedgerError:
        return None


@router.post("/desk/{lang}/ledger/records/{seq}/replay")
async def replay_record(request: Request, lang: str, seq: int):
    lang = r._lang(lang)
    r.user_of(request, lang, "replay")
    await r.form_of(request)
    ctx = _ctx(request)
    rec = _record(ctx, seq)

    def work() -> dict:
        with ENGINE_LOCK:
            return replay(rec, ctx.catalogue, ctx.book, with_decision=True)
    result = await run_in_threadpool(work)
    result["rows"] = replay_rows(rec.decision, result.pop("decision"), result, ctx, r.desk(request).labels, lang)
    return await _record_view(request, lang, seq, replayed=result)


def replay_rows(was: dict, now: dict, result: dict, ctx: Context, labels, lang: str) -> list[dict]:
    """What changed between the recorded decision and today's, in the page's words: one row per
    thing that differs (rulebook, total, each coverage, each loss line, facts asked, rules fired),
    each {what, was, now}. The rulebook row always comes, so an identical replay says under what."""
    doc = labels.doc_ui
    covs = ctx.catalogue[was["programme"]].coverages if was.get("programme") in ctx.catalogue.programmes else {}

    def cov_label(cov):
        return covs.get(cov, {}).get("label", {}).get(lang, cov) if cov else "—"

    def status(s):
        return doc["statuses"].get(s, {}).get(lang, s) if s else "—"

    def amount(n):
        return f"{n:,}" + ("円" if lang == "ja" else " yen")

    def book(rb):
        return f"{rb.get('version', '?')} · sha256 {str(rb.get('sha256', ''))[:12]}…"

    rows = [{"key": "rulebook", "what": doc["rulebook"][lang], "was": book(result["recorded_under"]),
             "now": book(result["rulebook"]), "changed": result["recorded_under"] != result["rulebook"]}]
    if result["identical"]:
        return rows

    def total(d):
        mark = f" ({labels.word('provisional', lang)})" if d["needs_information"] else ""
        return amount(d["total_payable"]) + mark
    if total(was) != total(now):
        rows.append({"key": "total", "what": doc["total"][lang], "was": total(was), "now": total(now)})
    for cov in dict.fromkeys(list(was["coverages"]) + list(now["coverages"])):
        a, b = was["coverages"].get(cov, {}), now["coverages"].get(cov, {})
        if (a.get("status"), a.get("payable")) != (b.get("status"), b.get("payable")):
            rows.append({"key": f"coverage-{cov}", "what": f"{doc['coverage'][lang]}: {cov_label(cov)}",
                         "was": f"{status(a.get('status'))} {amount(a.get('payable', 0))}",
                         "now": f"{status(b.get('status'))} {amount(b.get('payable', 0))}"})

    def line(ln):
        if ln is None:
            return "—"
        refused = (ln.get("refused") or {})
        why = (refused.get("text") if lang == "ja" else refused.get("text_en", refused.get("text"))) if refused else ""
        return f"{cov_label(ln.get('coverage'))}: {amount(ln['paid'])}" + (f" ({why})" if why else "")
    by_index = {ln["index"]: ln for ln in now["lines"]}
    claimed_word = doc["claimed"][lang] if lang == "ja" else doc["claimed"][lang].lower()  # mid-phrase
    for ln in was["lines"]:
        other = by_index.pop(ln["index"], None)
        if other is None or (ln.get("coverage"), ln["paid"], ln.get("refused")) != \
                (other.get("coverage"), other["paid"], other.get("refused")):
            rows.append({"key": f"line-{ln['index'] + 1}",
                         "what": f"{doc['line'][lang]} {ln['index'] + 1} "
                                 f"({labels.choice('losses.category', ln['category'], lang)}, "
                                 f"{claimed_word} {amount(ln['claimed'])})",
                         "was": line(ln), "now": line(other)})
    for ln in by_index.values():
        rows.append({"key": f"line-{ln['index'] + 1}", "what": f"{doc['line'][lang]} {ln['index'] + 1}",
                     "was": "—", "now": line(ln)})

    def asked(d):
        return ", ".join(n["field"] for n in d["needs_information"]) or "—"
    if asked(was) != asked(now):
        rows.append({"key": "needs", "what": doc["needs"][lang], "was": asked(was), "now": asked(now)})
    change = result.get("change") or {}
    fired_was = ", ".join(f["rule"] for f in change.get("fired_only_in_a", []))
    fired_now = ", ".join(f["rule"] for f in change.get("fired_only_in_b", []))
    if fired_was or fired_now:
        rows.append({"key": "fired", "what": labels.word("replay_fired", lang), "was": fired_was or "—",
                     "now": fired_now or "—"})
    if len(rows) == 1:  # only what the record says about itself (metadata) differs
        rows.append({"key": "metadata", "what": labels.word("replay_metadata", lang), "was": "", "now": ""})
    for row in rows:
        row.setdefault("changed", True)
    return rows


@router.post("/desk/{lang}/ledger/records/{seq}/verify")
async def verify_chain(request: Request, lang: str, seq: int):
    lang = r._lang(lang)
    r.user_of(request, lang, "verify")
    await r.form_of(request)
    ok, message = await run_in_threadpool(lambda: _ctx(request).ledger().verify())
    return await _record_view(request, lang, seq, chain={"ok": ok, "message": message})


# ---------------------------------------------------------------------------- 5. work list
@router.get("/desk/{lang}/work")
def work_list(request: Request, lang: str, page: int = 1, scope: str = "mine"):
    """The open claims from the ledger's side table, one page read: overdue first, then by due date
    (000 §18: 30 days from the completion date, an agreed extension, plus pauses); 未払 flags a payable
    amount still unpaid past its due date."""
    lang = r._lang(lang)
    sess = r.user_of(request, lang, "work_list")
    scope = "all" if scope == "all" else "mine"
    today = dt.date.today()
    page = max(1, min(page, 1_000_000))
    total, items = _ctx(request).ledger().worklist(handler=sess["user"] if scope == "mine" else None, today=today,
                                                   limit=PAGE, offset=(page - 1) * PAGE)
    pages = max(1, -(-total // PAGE))
    for i in items:
        ext = i["clock"].get("extension") or {}
        i["extension"] = ext if ext.get("to") else None
    return r.page(request, "work.html", lang, items=items, total=total, page=page, pages=pages, today=today,
                  timing=r.desk(request).labels.payment_timing, me=sess["user"], scope=scope)


# ---------------------------------------------------------------------------- second review and clock
_ERRORS = [("another handler account", "review_own"), ("why the decision goes back", "err_note_needed"),
           ("extension ends after", "err_after_due"), ("ends after it starts", "err_pause_order"),
           ("starts on or after", "err_pause_before"), ("overlaps", "err_overlap"),
           ("record the day the claim was completed", "err_complete_first"), ("not final", "err_not_final"),
           ("clock has stopped", "err_stopped"), ("not waiting for a second review", "err_not_pending"),
           ("expected a date", "bad_date"), ("expected one of", "err_reason"), ("re-adjudicated", "err_stale"),
           ("no pause from", "err_no_pause"), ("is outside 1900-01-01", "err_date_bounds"),
           ("before the claim was completed", "err_paid_before"), ("is after today", "err_paid_future"),
           ("is recorded: the claim was completed before", "err_complete_after_pause"),
           ("no control, bidi or zero-width", "err_note_chars")]


def _handling_words(msg: str, lang: str, request: Request) -> str:
    labels = r.desk(request).labels
    for needle, word in _ERRORS:
        if needle in msg:
            return labels.word(word, lang)
    return forms.message(msg, lang) if msg.startswith("at most ") else msg  # a note's length, in the page's words


def _record_number(text: str) -> int | None:
    """A record number a desk form carries (hidden decision_seq), else None: ASCII digits, 64 bits at most."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else None


def _latest_seq(ctx: Context, claim_id: str) -> int:
    try:
        return ctx.ledger().state(claim_id)["seq"]
    except _DOWN:  # the service's trouble: the app's 503 page
        raise
    except LedgerError:
        raise r.DeskError(404, "not_found", claim_id) from None


async def _handling_form(request: Request, lang: str, claim_id: str, permission: str):
    """A handling form posted on a claim's record page: the page's language, the user, the form, the
    context and the claim's latest record (404 when the claim is not in the ledger)."""
    lang = r._lang(lang)
    sess = r.user_of(request, lang, permission)
    form = await r.form_of(request)
    ctx = _ctx(request)
    return lang, sess, form, ctx, _latest_seq(ctx, claim_id)


async def _handle(request: Request, lang: str, seq: int, form: dict, group: str, step, field_of, anchor: str):
    """Record one handling step (`step()` in the ledger, off the event loop); refused, the record page
    again with the ledger's reason in the page's words beside the field `field_of(field)` names."""
    try:
        new_seq, _ = await run_in_threadpool(step)
    except _DOWN:
        raise
    except LedgerError as exc:
        field, _, msg = str(exc).partition(": ")
        return await _record_view(request, lang, seq, errors={group: {field_of(field): _handling_words(msg, lang, request)}},
                                  values={group: form}, status=403 if isinstance(exc, LedgerForbidden) else 422)
    return RedirectResponse(f"/desk/{lang}/ledger/records/{new_seq}#{anchor}", status_code=303)


@router.post("/desk/{lang}/claims/{claim_id:path}/review")  # a claim id may hold "/"
async def review_post(request: Request, lang: str, claim_id: str):
    lang, sess, form, ctx, seq = await _handling_form(request, lang, claim_id, "review")
    action = form.get("action") if form.get("action") in ("approve", "return") else None
    note = r.text_of(form, "note")  # the ledger refuses one over 2,000 characters, beside `note`
    # the decision record the page showed: the ledger refuses the review if the claim was re-adjudicated since
    shown = r.text_of(form, "decision_seq")
    decision_seq = _record_number(shown)
    if action is None or decision_seq is None:
        return await _record_view(request, lang, seq, errors={"review": {"action": r.desk(request).labels.word(
            "err_required", lang)}}, values={"review": form}, status=422)
    return await _handle(request, lang, seq, form, "review",
                         lambda: ctx.ledger().review(claim_id, action, note, by=sess["user"],
                                                     decision_seq=decision_seq),
                         lambda field: field if field == "note" else "action", "handling")


@router.post("/desk/{lang}/claims/{claim_id:path}/benefit")
async def benefit_post(request: Request, lang: str, claim_id: str):
    """請求案内: an unclaimed benefit marked told (案内済) or declined (請求しない), with the date."""
    lang, sess, form, ctx, seq = await _handling_form(request, lang, claim_id, "record")
    action = form.get("action") if form.get("action") in ("told", "declined") else None
    key, on = r.text_of(form, "key")[:200], r.text_of(form, "on").strip()[:40]
    if action is None or not key:
        raise r.DeskError(422, "bad_form")
    if not on:
        return await _record_view(request, lang, seq, errors={"benefit": {"on": r.desk(request).labels.word(
            "err_required", lang)}}, values={"benefit": form}, status=422)
    return await _handle(request, lang, seq, form, "benefit",
                         lambda: ctx.ledger().mark_benefit(claim_id, key, action, on, by=sess["user"]),
                         lambda field: "on", "unclaimed")


_CLOCK_FIELDS = {"complete": ("completed_on",), "extend": ("reason", "to", "agreed_on"), "pause": ("from", "to", "note"),
                 "remove_pause": ("from",), "remove_extension": ("to",), "paid": ("paid_on", "decision_seq"),
                 "remove_paid": ("paid_on",)}
FIELD_MAX = 500       # a date or a reason code is far shorter
_REQUIRED = {"complete": ("completed_on",), "extend": ("reason", "to"), "pause": ("from", "to"), "remove_pause": ("from",),
             "remove_extension": (), "paid": ("paid_on",), "remove_paid": ()}


@router.post("/desk/{lang}/claims/{claim_id:path}/clock")
async def clock_post(request: Request, lang: str, claim_id: str):
    lang, sess, form, ctx, seq = await _handling_form(request, lang, claim_id, "record")
    action = form.get("action") if form.get("action") in _CLOCK_FIELDS else None
    if action is None:
        raise r.DeskError(422, "bad_form")
    values = {k: r.text_of(form, k).strip() for k in _CLOCK_FIELDS[action]}
    values = {k: v for k, v in values.items() if v}
    labels = r.desk(request).labels
    problems = {k: labels.word("err_required", lang) for k in _REQUIRED[action] if k not in values}
    problems.update({k: forms.message(f"at most {most:,} characters", lang) for k, v in values.items()
                     for most in [handling.PAUSE_NOTE_CHARS if k == "note" else FIELD_MAX] if len(v) > most})
    if problems:  # refused, never cut: what is recorded is what was typed
        return await _record_view(request, lang, seq, errors={action: problems}, values={action: form}, status=422)
    if "decision_seq" in values:  # the decision the page showed: the payment is counted against its amount
        values["decision_seq"] = _record_number(values["decision_seq"])
        if values["decision_seq"] is None:
            raise r.DeskError(422, "bad_form")
    return await _handle(request, lang, seq, form, action,
                         lambda: ctx.ledger().clock(claim_id, action, values, ctx.catalogue, by=sess["user"]),
                         lambda field: field if field in _CLOCK_FIELDS[action] and field != "decision_seq"
                         else _CLOCK_FIELDS[action][0],
                         "handling")
