"""The JSON API, /api/v1. Each route names the permission it needs (auth.PERMISSIONS)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal, Optional

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ..contract.claim import Claim
from ..contract.decision import Decision
from ..contract.load import ClaimError, field_path, parse_claim_bytes
from ..contract.text import quote as quote_value
from ..decide import ENGINE_VERSION, decide, to_json
from ..documents.render import render
from ..engine.rulebook import RulebookError, load_rulebook
from ..ledger import LedgerDamaged, LedgerError, LedgerForbidden, LedgerUnavailable
from ..ledger.base import MAX_SEQ
from ..ledger.handling import review_need
from ..policy.catalogue import load_catalogue, value
from ..policy.claims import parse_claim
from ..policy.premium import quote as premium_quote
from ..runs.diff import compare
from ..runs.replay import replay
from .auth import allowed, bearer_token
from .context import ENGINE_LOCK, RECORD_LOCK, ApiError, Context
from .models import (SEARCH_STATUS, ClaimHandling, ClaimsPage, DiffResult, ErrorBody, Health, JsonSchema, LedgerRecord,
                     Plans, PolicySummary, QuoteOut, Replay, Rules, Verified, Worklist)

router = APIRouter(prefix="/api/v1")

MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
         "text": "text/plain; charset=utf-8"}
# Rendered documents carry no script; nothing they hold may load anything.
DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"


ERROR = {400: "malformed JSON (or a body that is not UTF-8)", 401: "missing or unknown token",
         403: "the token's role may not do this", 404: "no such claim, record, policy or programme",
         409: "the claim's state forbids it (already recorded, nothing pending, clock stopped)",
         413: "the request body is over the configured size (default 1 MiB); refused before it is parsed",
         415: "the body's Content-Type is not JSON (application/json; none given is read as JSON)",
         422: "a field, parameter or claim is not valid: one problem per field, named as the CLI names it",
         500: "the server could not complete the request (no detail; the trace stays in the server log)"}


def _doc(model: type[BaseModel], *statuses: int, login: bool = True, description: str = "OK") -> dict:
    """The route's OpenAPI responses: its 200 body, and the error body for each 4xx/5xx it can give.
    response_model=None: the body is served as the route builds it; tests/test_openapi.py holds real
    responses to the documented schema."""
    codes = sorted({*statuses, 500, *((401, 403, 422) if login else ()),  # health: no parameter, no login
                    *((415,) if 413 in statuses else ())})  # a route that reads a body reads JSON
    return {"response_model": None,
            "responses": {200: {"model": model, "description": description},
                          **{s: {"model": ErrorBody, "description": ERROR[s]} for s in codes}}}


def _ctx(request: Request) -> Context:
    return request.app.state.ctx


def require(permission: str):
    """A dependency: the user behind the bearer token, if the user's role has `permission`."""
    def check(request: Request) -> dict:
        token = bearer_token(request.headers.get("authorization"))
        user = _ctx(request).ledger().authenticate(token) if token else None
        if user is None:
            raise ApiError(401, "unauthorized", "a valid API token is required: Authorization: Bearer TOKEN",
                           headers={"WWW-Authenticate": "Bearer"})
        request.state.user = user["name"]
        if not allowed(user["role"], permission):
            raise ApiError(403, "forbidden", f"the role {user['role']!r} may not {permission.replace('_', ' ')}")
        return user
    return check


def _is_json(content_type: str | None) -> bool:
    """No Content-Type, application/json or application/<...>+json, with any parameters."""
    media = (content_type or "application/json").partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _body(request: Request) -> bytes:
    """A JSON route's request body: refused with 415 when it says it is not JSON (a form or text
    posted here is a mistake, not a claim), with 413 above the configured size, before anything
    is parsed."""
    if not _is_json(request.headers.get("content-type")):
        raise ApiError(415, "unsupported_media_type", "the request body must be JSON: send it with "
                       f"Content-Type: application/json, not {request.headers['content-type'][:100]!r}")
    limit = _ctx(request).settings.max_body
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise ApiError(413, "too_large", f"the request body is over {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"the request body is over {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_body(data: bytes) -> Any:
    """Malformed JSON is a 400; a claim's problems (duplicate keys, fields) are 422s, named."""
    try:
        return parse_claim_bytes(data, "json")
    except ClaimError as exc:
        where, msg = exc.problems[0]
        if where == "(claim file)" and msg.startswith(("not valid JSON", "not UTF-8")):
            raise ApiError(400, "malformed_json", msg) from None
        raise ApiError(422, "invalid_claim", "the claim is not valid", exc.problems) from None


def _claim(ctx: Context, data: Any) -> Claim:
    try:
        return parse_claim(data, ctx.catalogue)
    except ClaimError as exc:
        raise ApiError(422, "invalid_claim", "the claim is not valid", exc.problems) from None


def _decide(ctx: Context, claim: Claim, note: dict | None = None) -> dict:
    with ENGINE_LOCK:
        return decide(claim, ctx.book, ctx.catalogue, note)


def _unavailable(exc: LedgerError) -> ApiError | None:
    """A ledger that stayed busy or is damaged is the service's trouble, not the request's: 503 (the
    message names "the service's ledger", never its path: context.py)."""
    if isinstance(exc, (LedgerUnavailable, LedgerDamaged)):
        return ApiError(503, "ledger_unavailable", str(exc).partition(": ")[2] or str(exc),
                        headers={"Retry-After": "30"})
    return None


def _ledger_error(exc: LedgerError) -> ApiError:
    if (down := _unavailable(exc)) is not None:
        return down
    field, _, msg = str(exc).replace("use --readjudicate", "use readjudicate=true").partition(": ")
    status = 409 if "already recorded" in msg else 422
    return ApiError(status, "conflict" if status == 409 else "ledger_refused", msg or str(exc), [(field, msg)])


CLAIM_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Claim"}}}}}


@router.get("/health", summary="Service status, engine and rulebook version (no login)",
            **_doc(Health, login=False))
def health(request: Request) -> dict:
    ctx = _ctx(request)
    return {"status": "ok", "engine": {"version": ENGINE_VERSION},
            "rulebook": {"version": ctx.book.version, "sha256": ctx.book.sha256}}


@router.post("/adjudicate", summary="Adjudicate a claim; optionally record it, or return a document",
             openapi_extra=CLAIM_BODY,
             responses={200: {"model": Decision, "description": "the decision (or the document asked for)",
                              "content": {m: {"schema": {"type": "string", "description": "the decision document"}}
                                          for m in MEDIA.values() if m != "application/json"}},
                        **{s: {"model": ErrorBody, "description": ERROR[s]}
                           for s in (400, 401, 403, 409, 413, 415, 422, 500)}})
async def adjudicate(request: Request, record: bool = False, readjudicate: bool = False,
                     format: Literal["json", "html", "md", "text"] = "json", lang: Literal["ja", "en"] = "ja",
                     user: dict = Depends(require("adjudicate"))) -> Response:
    ctx = _ctx(request)
    if (record or readjudicate) and not allowed(user["role"], "record"):
        raise ApiError(403, "forbidden", f"the role {user['role']!r} may not record to the ledger")
    raw = _json_body(await _body(request))
    claim = _claim(ctx, raw)

    def work() -> tuple[dict, int | None]:
        if not (record or readjudicate):
            return _decide(ctx, claim), None
        try:
            with RECORD_LOCK:
                seq, decision = ctx.ledger().record(raw, claim, ctx.catalogue, lambda c, note: _decide(ctx, c, note),
                                                    readjudicate=readjudicate, recorded_by=user["name"])
        except LedgerError as exc:
            raise _ledger_error(exc) from None
        return decision, seq

    decision, seq = await run_in_threadpool(work)
    headers = {"X-Ledger-Seq": str(seq)} if seq is not None else {}
    if seq is not None:
        headers["X-Review-State"] = ctx.ledger().state(decision["claim_id"])["review"]["state"]
    if format == "json":
        return Response(to_json(decision, pretty=True), media_type=MEDIA["json"], headers=headers)

    # a recorded decision waits for its second review; an unrecorded one that would need it is never shown
    # as a final notice either (a probe must not print a 支払通知 the ledger holds as pending; hostile probe)
    draft = ctx.ledger().state(decision["claim_id"])["draft"] if seq is not None else \
        bool(review_need(decision, ctx.catalogue))

    def document() -> str:
        with ENGINE_LOCK:
            return render(decision, fmt=format, lang=lang, claim=claim, book=ctx.book, catalogue=ctx.catalogue,
                          draft=draft)
    doc = await run_in_threadpool(document)
    return Response(doc, media_type=MEDIA[format], headers={**headers, "Content-Security-Policy": DOCUMENT_CSP})


def _record_view(rec, ledger=None) -> dict:
    row = rec.row
    out = {"seq": rec.seq, "claim_id": rec.claim_id,
           **{k: row.get(k) for k in ("policy_number", "programme", "period_start", "recorded_at", "recorded_by",
                                      "supersedes", "hash", "prev_hash", "engine_version")},
           "rulebook": {"version": row["rulebook_version"], "sha256": row["rulebook_sha256"]},
           "input": rec.input, "effective": rec.effective, "decision": rec.decision}
    event = json.loads(row["event_json"]) if row.get("event_json") else None
    out["kind"] = row.get("kind") or "decision"
    out["event"] = event["event"] if event else None
    out["handling"] = event["state"] if event else None  # review and payment clock right after this record
    return out


def _find(ctx: Context, ident: str | None = None, seq: int | None = None) -> Any:
    try:
        return ctx.ledger().find(ident=ident, seq=seq)
    except LedgerError as exc:
        raise _unavailable(exc) or ApiError(404, "not_found", str(exc)) from None


# Claim ids and policy numbers may hold "/" (FK/2025/001): the routes take the rest of the path, and a
# route with a suffix comes before the bare one (which would read ".../handling" as a claim id).
@router.get("/claims/{claim_id:path}/handling", summary="A claim's second review and payment clock as they stand",
            **_doc(ClaimHandling, 404))
def claim_handling(claim_id: str, request: Request, user: dict = Depends(require("read_ledger"))) -> dict:
    try:
        return _ctx(request).ledger().state(claim_id)
    except LedgerError as exc:
        raise _handling_error(exc) from None


@router.get("/claims/{claim_id:path}", summary="The latest ledger record of a claim", **_doc(LedgerRecord, 404))
def claim_record(claim_id: str, request: Request, user: dict = Depends(require("read_ledger"))) -> dict:
    return _record_view(_find(_ctx(request), claim_id))


@router.get("/records/{seq}", summary="A ledger record by sequence number", **_doc(LedgerRecord, 404))
def record_by_seq(request: Request, seq: int = Path(ge=1, le=MAX_SEQ),  # beyond 64 bits: 422, not an overflow
                  user: dict = Depends(require("read_ledger"))) -> dict:
    return _record_view(_find(_ctx(request), seq=seq))


def _handling_error(exc: LedgerError) -> ApiError:
    if (down := _unavailable(exc)) is not None:
        return down
    if isinstance(exc, LedgerForbidden):
        return ApiError(403, "forbidden", str(exc).partition(": ")[2] or str(exc))
    field, _, msg = str(exc).partition(": ")
    if msg.startswith("no ledger record"):
        return ApiError(404, "not_found", msg)
    if "not waiting" in msg or "clock has stopped" in msg or "not final" in msg or field == "decision_seq":
        return ApiError(409, "conflict", msg, [(field, msg)])
    return ApiError(422, "invalid_request", msg or str(exc), [(field, msg)])


class ReviewRequest(BaseModel):
    action: Literal["approve", "return"]
    note: Optional[str] = None
    # the decision record the reviewer read (handling.decision_seq), required: 409 if the claim was
    # re-adjudicated since, so an approval never lands on a decision the reviewer did not read
    decision_seq: int = Field(ge=1, le=MAX_SEQ, strict=True)
    model_config = {"extra": "forbid"}


class BenefitRequest(BaseModel):
    """One of the decision's unclaimed_benefits marked: told (案内済) or declined (請求しない), on a date."""
    programme: str = Field(min_length=1, max_length=100)
    coverage: str = Field(min_length=1, max_length=100)
    action: Literal["told", "declined"]
    on: dt.date


class ClockRequest(BaseModel):
    action: Literal["complete", "extend", "pause", "remove_pause", "remove_extension", "paid", "remove_paid"]
    completed_on: Optional[dt.date] = None
    reason: Optional[Literal["public_investigation", "expert_appraisal", "disaster_area", "abroad",
                             "special_claim"]] = None
    to: Optional[dt.date] = None
    agreed_on: Optional[dt.date] = None
    from_: Optional[dt.date] = Field(default=None, alias="from")   # `from` is a Python keyword
    paid_on: Optional[dt.date] = None
    note: Optional[str] = None
    # paid: the decision record the payment was made on (409 if the claim was re-adjudicated since)
    decision_seq: Optional[int] = Field(default=None, ge=1, le=MAX_SEQ, strict=True)
    model_config = {"extra": "forbid"}


def _model(cls, data: Any):
    try:
        return cls.model_validate(data)
    except ValueError as exc:
        problems = [(field_path(e["loc"]), e["msg"])
                    for e in getattr(exc, "errors", lambda: [])()]
        raise ApiError(422, "invalid_request", "the request is not valid", problems) from None


@router.post("/claims/{claim_id:path}/review", summary="Second review (二次査定) of a recorded refusal or cut: approve "
             "it (final) or return it to its handler with a note; not by the account that recorded it",
             **_doc(ClaimHandling, 400, 404, 409, 413, description="the claim's handling after the step"),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": ReviewRequest.model_json_schema()}}}})
async def review_claim(claim_id: str, request: Request, user: dict = Depends(require("review"))) -> dict:
    req = _model(ReviewRequest, _json_body(await _body(request)))
    ctx = _ctx(request)
    try:
        seq, state = await run_in_threadpool(lambda: ctx.ledger().review(claim_id, req.action, req.note,
                                                                         by=user["name"],
                                                                         decision_seq=req.decision_seq))
    except LedgerError as exc:
        raise _handling_error(exc) from None
    return {"seq": seq, **state}


@router.post("/claims/{claim_id:path}/clock", summary="The payment clock (000 §18): record the day the claim was "
             "completed, an agreed extension (one of the five reasons, new date), a pause the insured caused, "
             "or the payment", **_doc(ClaimHandling, 400, 404, 409, 413, description="the claim's handling after the step"),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": ClockRequest.model_json_schema(by_alias=True)}}}})
async def clock_claim(claim_id: str, request: Request, user: dict = Depends(require("record"))) -> dict:
    req = _model(ClockRequest, _json_body(await _body(request)))
    ctx = _ctx(request)
    values = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in {
        "completed_on": req.completed_on, "reason": req.reason, "to": req.to, "agreed_on": req.agreed_on,
        "from": req.from_, "paid_on": req.paid_on, "note": req.note,
        "decision_seq": req.decision_seq}.items() if v is not None}
    try:
        seq, state = await run_in_threadpool(lambda: ctx.ledger().clock(claim_id, req.action, values, ctx.catalogue,
                                                                        by=user["name"]))
    except LedgerError as exc:
        raise _handling_error(exc) from None
    return {"seq": seq, **state}


@router.post("/claims/{claim_id:path}/benefits", summary="Mark an unclaimed benefit (請求案内漏れ) of the recorded "
             "decision: told (案内済) or declined (請求しない), with the date; the work list stops flagging it",
             **_doc(ClaimHandling, 400, 404, 409, 413, description="the claim's handling after the step"),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": BenefitRequest.model_json_schema()}}}})
async def mark_benefit(claim_id: str, request: Request, user: dict = Depends(require("record"))) -> dict:
    req = _model(BenefitRequest, _json_body(await _body(request)))
    ctx = _ctx(request)
    key = f"{req.programme}:{req.coverage}"
    try:
        seq, state = await run_in_threadpool(lambda: ctx.ledger().mark_benefit(claim_id, key, req.action, req.on,
                                                                               by=user["name"]))
    except LedgerError as exc:
        raise _handling_error(exc) from None
    return {"seq": seq, **state}


@router.get("/worklist", summary="Open claims by payment due date, overdue first; 未払 flags a payable amount "
            "unpaid past its due date", **_doc(Worklist))
def worklist(request: Request, scope: Literal["mine", "all"] = "mine", limit: int = Query(50, ge=1, le=500),
             offset: int = Query(0, ge=0, le=10_000_000), today: Optional[dt.date] = None,
             user: dict = Depends(require("work_list"))) -> dict:
    """`scope=mine`: the claims whose decision this account recorded; `all`: everyone's. `today` (default:
    the server's date) is the day overdue is counted from."""
    total, rows = _ctx(request).ledger().worklist(handler=user["name"] if scope == "mine" else None,
                                                  today=today, limit=limit, offset=offset)
    return {"total": total, "today": (today or dt.date.today()).isoformat(), "claims": rows}


def _status(total_payable: int, decision_needs: bool) -> str:
    """Search's status: the record's decision (does it pay?), not the claim's payment state (the work
    list's status, ledger payment_status); both names are contract (models.SEARCH_STATUS)."""
    return "needs_information" if decision_needs else ("paid" if total_payable > 0 else "not_paid")


@router.get("/claims", summary="Search the ledger: by policy, recording date and status; paged by cursor",
            **_doc(ClaimsPage))
def search_claims(request: Request, policy: Optional[str] = Query(None, max_length=64),
                  since: Optional[dt.date] = None, until: Optional[dt.date] = None,
                  status: Optional[Literal["paid", "not_paid", "needs_information"]] = Query(
                      None, description="only the records whose status is this; status is " + SEARCH_STATUS),
                  limit: int = Query(50, ge=1, le=500), cursor: Optional[int] = Query(None, ge=0),
                  user: dict = Depends(require("read_ledger"))) -> dict:
    """Records in chain order; `cursor` is the last seq of the previous page (next_cursor gives it)."""
    ledger = _ctx(request).ledger()
    rows = ledger.list_records(policy=policy, since=since.isoformat() if since else None,
                               until=until.isoformat() if until else None)
    out = []
    for r in rows:
        if cursor is not None and r["seq"] <= cursor:
            continue
        st = _status(r["total_payable"], r["needs_information"])
        if status is not None and st != status:
            continue
        out.append({**{k: r[k] for k in ("seq", "claim_id", "policy_number", "programme", "period_start",
                                         "recorded_at", "recorded_by", "supersedes", "total_payable", "hash")},
                    "status": st})
        if len(out) == limit:
            break
    more = bool(out) and len(out) == limit and any(r["seq"] > out[-1]["seq"] for r in rows)
    return {"records": out, "next_cursor": out[-1]["seq"] if more else None}


@router.get("/policies/{policy_number:path}", summary="A policy's claims per programme and period, and each "
            "aggregate pool's limit, used and left", **_doc(PolicySummary, 404))
def policy(policy_number: str, request: Request, user: dict = Depends(require("read_ledger"))) -> dict:
    ctx = _ctx(request)
    try:
        return ctx.ledger().policy_summary(policy_number, ctx.catalogue)
    except LedgerError as exc:
        raise _unavailable(exc) or ApiError(404, "not_found", str(exc)) from None


@router.get("/audit/verify", summary="Walk the hash chain of the ledger", **_doc(Verified))
def audit_verify(request: Request, user: dict = Depends(require("verify"))) -> dict:
    ok, message = _ctx(request).ledger().verify()
    return {"ok": ok, "message": message}


@router.post("/replay/{claim_id:path}", summary="Re-adjudicate a recorded claim under the current rulebook",
             **_doc(Replay, 404))
def replay_claim(claim_id: str, request: Request, user: dict = Depends(require("replay"))) -> dict:
    ctx = _ctx(request)
    rec = _find(ctx, claim_id)
    with ENGINE_LOCK:
        return replay(rec, ctx.catalogue, ctx.book)


class DiffRequest(BaseModel):
    claims: list[dict]
    a: str = "current"
    b: str


@router.post("/diff", summary="Adjudicate claims under two rulebooks known to the server; what changed",
             **_doc(DiffResult, 400, 413),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": DiffRequest.model_json_schema()}}}})
async def diff(request: Request, user: dict = Depends(require("diff"))) -> dict:
    ctx = _ctx(request)
    try:
        req = DiffRequest.model_validate(_json_body(await _body(request)))
    except ValueError as exc:
        problems = [(field_path(e["loc"]), e["msg"]) for e in getattr(exc, "errors", lambda: [])()]
        raise ApiError(422, "invalid_request", "the diff request is not valid", problems) from None
    books = {"current": ctx.settings.rules, **ctx.settings.rulebooks}
    for side in (req.a, req.b):
        if side not in books:
            raise ApiError(422, "invalid_request", "unknown rulebook",
                           [("a" if side == req.a else "b", f"{side!r} is not one of {', '.join(books)}")])

    def work() -> dict:
        loaded = {}
        for side in (req.a, req.b):
            try:
                loaded[side] = (load_catalogue(books[side]), load_rulebook(books[side]))
            except (RulebookError, OSError) as exc:
                raise ApiError(422, "invalid_request", f"rulebook {side!r} cannot be loaded: {exc}") from None
        out, totals = [], {"a": 0, "b": 0}
        for i, raw in enumerate(req.claims):
            decisions = {}
            try:
                for side in ("a", "b"):
                    cat, book = loaded[getattr(req, side)]
                    with ENGINE_LOCK:
                        decisions[side] = decide(parse_claim(raw, cat), book, cat)
            except ClaimError as exc:
                out.append({"index": i, "problems": [{"field": f, "message": m} for f, m in exc.problems]})
                continue
            totals["a"] += decisions["a"]["total_payable"]
            totals["b"] += decisions["b"]["total_payable"]
            out.append({"index": i, **compare(decisions["a"], decisions["b"])})
        return {"a": req.a, "b": req.b, "claims": out,
                "summary": {"claims": len(req.claims), "changed": sum(1 for c in out if c.get("changed")),
                            "invalid": sum(1 for c in out if "problems" in c),
                            "total_payable": totals, "difference": totals["b"] - totals["a"]}}
    return await run_in_threadpool(work)


@router.get("/rules", summary="The rules with their clauses and texts", **_doc(Rules, 404))
def rules(request: Request, programme: Optional[str] = None, user: dict = Depends(require("reference"))) -> dict:
    book, cat = _ctx(request).book, _ctx(request).catalogue
    if programme is not None and programme not in cat.programmes:  # as /plans: not an empty list
        raise ApiError(404, "not_found", f"unknown programme {quote_value(programme)}",
                       [("programme", f"expected one of {', '.join(cat.programmes)}")])
    chosen = book.for_programme(programme) if programme else book.rules
    return {"version": book.version, "sha256": book.sha256, "rules": [
        {"id": r.id, "clause": r.clause, "programmes": r.programmes, "plans": r.plans, "on": r.on,
         "title": r.title.model_dump(), "text": r.text.model_dump(), "wording": r.wording,
         "choice": r.choice.model_dump() if r.choice else None,
         "effect": {"kind": r.effect.kind, "target": r.effect.target, "coverages": r.effect.coverages}}
        for r in chosen], "out_of_scope": book.out_of_scope if not programme else []}


def _limits(node: Any) -> Any:
    if isinstance(node, dict) and "value" not in node:
        return {k: value(v) for k, v in node.items()}
    return value(node)


@router.get("/plans", summary="Programmes, their periods and plans with limits", **_doc(Plans, 404))
def plans(request: Request, programme: Optional[str] = None, user: dict = Depends(require("reference"))) -> dict:
    cat = _ctx(request).catalogue
    if programme is not None and programme not in cat.programmes:
        raise ApiError(404, "not_found", f"unknown programme {programme!r}",
                       [("programme", f"expected one of {', '.join(cat.programmes)}")])
    out = {}
    for pid in [programme] if programme else list(cat.programmes):
        prog = cat[pid]
        out[pid] = {"label": prog.label, "period": {"start": str(prog.period_start),
                                                    "end": str(prog.period_end) if prog.period_end else None},
                    "coverages": {c: spec["label"] for c, spec in prog.coverages.items()},
                    "plans": {name: {"kind": plan["kind"], "limits": {k: _limits(n) for k, n in plan["limits"].items()}}
                              for name, plan in prog.plans.items()}}
    return {"programmes": out}


@router.get("/quote", summary="The premium of a tabulated point, else: ask the agent", **_doc(QuoteOut))
def quote(request: Request, programme: str, plan: str,
          facility: Literal["clinic", "dental_clinic", "hospital", "care_facility"],
          general_beds: Optional[int] = Query(None, ge=0, lt=100_000),
          other_beds: int = Query(0, ge=0, lt=100_000), places: Optional[int] = Query(None, ge=0, lt=100_000),
          enrolled_on: Optional[dt.date] = None, user: dict = Depends(require("reference"))) -> dict:
    cat = _ctx(request).catalogue
    if programme not in cat.programmes or not cat[programme].plans:
        raise ApiError(422, "invalid_request", "no tabulated premiums",
                       [("programme", "expected one of " + ", ".join(p for p in cat.programmes if cat[p].plans))])
    try:
        q = premium_quote(cat[programme], plan, facility, general_beds, other_beds, places, enrolled_on)
    except ValueError as exc:
        # the parameter's bare name (plan, enrolled_on, general_beds), as this route has always named it
        field, _, msg = str(exc).partition(": ")
        raise ApiError(422, "invalid_request", "the quote cannot be made", [(field, msg)]) from None
    out = {k: (str(v) if isinstance(v, dt.date) else v) for k, v in vars(q).items()}
    return out


@router.get("/schema/claim", summary="The claim file's JSON Schema", **_doc(JsonSchema))
def claim_schema(user: dict = Depends(require("reference"))) -> dict:
    return Claim.model_json_schema()


def register_claim_schema(openapi: dict) -> dict:
    """The adjudicate route reads its body itself (size limit first); its schema is the claim contract."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    claim = Claim.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in claim.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas["Claim"] = claim
    return openapi
