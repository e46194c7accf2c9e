"""The claims desk: server-rendered pages (Jinja2, autoescaped) in Japanese and English under
/desk/{ja|en}/, for the service's accounts, each role seeing and doing only its job (auth.PERMISSIONS).
Pages 1-3 (new claim, decision, record), 6 (rulebook) and 7 (scenarios) are here; 4 and 5 (ledger,
work list) in ledger_pages.py.

A session is a signed cookie (session.py) with a CSRF token every form carries back. Assets are
served from static/ beside this module; nothing is loaded from the network.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from ...contract.load import FILE, ClaimError, parse_claim_bytes
from ...decide import decide
from ...documents.render import render
from ...ledger import LedgerDamaged, LedgerError, LedgerUnavailable
from ...ledger.handling import review_need
from ...policy.catalogue import value
from ...policy.claims import parse_claim
from ..auth import allowed
from ..context import ENGINE_LOCK, RECORD_LOCK, Context
from . import forms, ledger_pages, scenario_run
from .common import (HERE, HOME, PAGE_CSP, Desk, DeskError, Redirect, _lang, desk, document_body, form_of, page,
                     session_of, text_of, user_of)
from .labels import Labels
from .session import COOKIE, Sessions, set_cookie

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------------------- login
@router.get("/")
@router.get("/desk")
@router.get("/desk/")
def root() -> RedirectResponse:
    return RedirectResponse("/desk/ja/", status_code=303)


@router.get("/desk/{lang}/")
def home(request: Request, lang: str):
    lang = _lang(lang)
    sess = user_of(request, lang)
    return RedirectResponse(f"/desk/{lang}/{HOME.get(sess['role'], 'rules')}", status_code=303)


def _safe_next(nxt: str | None, lang: str) -> str:
    if nxt and re.fullmatch(r"/desk/(ja|en)/[A-Za-z0-9_/%.\-]*", nxt) and "//" not in nxt:
        return nxt
    return f"/desk/{lang}/"


@router.get("/desk/{lang}/login")
def login_page(request: Request, lang: str, next: str | None = None):
    lang = _lang(lang)
    d = desk(request)
    sess = session_of(request)
    fresh = sess is None or not sess.get("csrf")
    if fresh:
        sess = Sessions.new(None)
    resp = _login_response(request, lang, sess, next, None)
    if fresh:
        set_cookie(resp, d.sessions.dumps(sess), request.url.scheme == "https")
    return resp


def _login_response(request: Request, lang: str, sess: dict, nxt: str | None, error: str | None,
                    name: str = "", status: int = 200) -> HTMLResponse:
    d = desk(request)
    words = d.labels.words_for(lang)
    other = "en" if lang == "ja" else "ja"
    html = d.env.get_template("login.html").render(
        lang=lang, other=other, switch=f"/desk/{other}/login", switch_post=False, w=words, nav=[], user=None,
        role=None, role_label="", csrf=sess["csrf"], next=_safe_next(nxt, lang), error=error, name=name,
        can=lambda perm: False, labels=d.labels)
    resp = HTMLResponse(html, status_code=status)
    resp.headers["Content-Security-Policy"] = PAGE_CSP
    return resp


@router.post("/desk/{lang}/login")
async def login(request: Request, lang: str):
    lang = _lang(lang)
    d = desk(request)
    form = await form_of(request)
    name = text_of(form, "name").strip()[:64]
    token = text_of(form, "token").strip()
    user = d.ctx.ledger().authenticate(token) if token and len(token) <= 256 else None
    if user is None or (name and name != user["name"]):
        sess = session_of(request) or Sessions.new(None)
        return _login_response(request, lang, sess, text_of(form, "next"), d.labels.word("login_failed", lang),
                               name=name, status=401)
    request.state.user = user["name"]
    account = d.ctx.ledger().desk_account(user["name"])
    resp = RedirectResponse(_safe_next(text_of(form, "next"), lang), status_code=303)
    set_cookie(resp, d.sessions.dumps(Sessions.new(account)), request.url.scheme == "https")  # a new session id
    return resp


@router.post("/desk/{lang}/logout")
async def logout(request: Request, lang: str):
    lang = _lang(lang)
    await form_of(request)
    sess = session_of(request)
    if sess and sess.get("user"):  # server-side: a copy of the cookie is logged out too
        desk(request).ctx.ledger().end_sessions(sess["user"])
    resp = RedirectResponse(f"/desk/{lang}/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


# ---------------------------------------------------------------------------- 1. new claim
def _plans(ctx: Context) -> list[dict]:
    return [{"programme": pid, "plan": name} for pid, prog in ctx.catalogue.programmes.items()
            for name in prog.plans]


def claim_form(request: Request, lang: str, values: dict | None = None, errors: dict | None = None,
               file_errors: list | None = None, file_text: str = "", status: int = 200) -> HTMLResponse:
    ctx = desk(request).ctx
    values = values or {"programme": "nagano-privacy-2016", "losses[0].category": ""}
    rows = sorted({int(m.group(1)) for k in values for m in [re.match(r"losses\[(\d+)\]\.", k)] if m}) or [0]
    return page(request, "new_claim.html", lang, status=status, form=forms.FORM, values=values, errors=errors or {},
                rows=rows, plans=_plans(ctx), programmes={p: prog.label[lang] for p, prog in
                                                          ctx.catalogue.programmes.items()},
                file_errors=file_errors or [], file_text=file_text, none_tick=forms.NONE_TICK)


@router.get("/desk/{lang}/claims/new")
def new_claim(request: Request, lang: str):
    lang = _lang(lang)
    user_of(request, lang, "adjudicate")
    return claim_form(request, lang)


def _placed(path: str) -> str:
    """The form field a problem is shown beside: a list member's problem (incident.reports[2]) beside its list."""
    m = re.fullmatch(r"(.+)\[\d+\]", path)
    if m and re.sub(r"\[\d+\]", "", m.group(1)) in forms.INDEX:
        return m.group(1)
    return path


def _problems(lang: str, local: list, contract: list) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path, code, got in local:
        out.setdefault(_placed(path), []).append(forms.local_message(code, got, lang))
    for path, msg in contract:
        out.setdefault(_placed(path), []).append(forms.message(msg, lang))
    return out


def _validate(ctx: Context, claim: dict):
    try:
        return parse_claim(claim, ctx.catalogue), []
    except ClaimError as exc:
        return None, exc.problems


@router.post("/desk/{lang}/claims/decide")
async def decide_form(request: Request, lang: str):
    lang = _lang(lang)
    user_of(request, lang, "adjudicate")
    form = await form_of(request)
    claim, values, local = forms.claim_from_values({k: v for k, v in form.items() if k != "csrf"})
    parsed, problems = _validate(desk(request).ctx, claim) if not local else (None, [])
    if local or problems:
        return claim_form(request, lang, values, _problems(lang, local, problems), status=422)
    return await decision_page(request, lang, claim, parsed)


@router.post("/desk/{lang}/claims/file")
async def decide_file(request: Request, lang: str):
    lang = _lang(lang)
    user_of(request, lang, "adjudicate")
    form = await form_of(request, files=("file",))
    upload = form.get("file")
    text = text_of(form, "text")
    data, name = text.encode("utf-8"), ""
    if upload is not None and not isinstance(upload, str) and getattr(upload, "filename", ""):
        data, name = await upload.read(), upload.filename
    fmt = "json" if name.lower().endswith(".json") or (not name and data.lstrip()[:1] == b"{") else "yaml"
    try:
        raw = parse_claim_bytes(data, fmt)
        raw = json.loads(json.dumps(raw, default=str))  # dates as ISO strings, as a form gives them
        if name and "claim_id" not in raw:
            raw["claim_id"] = Path(name).stem
    except ClaimError as exc:
        fmt_name = fmt.upper()
        errs = [(f, forms.message(m if f != "(claim file)" or m.startswith(("not valid", "expected", "duplicate"))
                                  else f"not valid {fmt_name}: " + " ".join(m.split()), lang)) for f, m in exc.problems]
        return claim_form(request, lang, file_errors=errs, file_text=text, status=422)
    parsed, problems = _validate(desk(request).ctx, raw)
    if problems:
        values = forms.values_from_claim(raw)
        return claim_form(request, lang, values, _problems(lang, [], problems),
                          file_errors=[(f, forms.message(m, lang)) for f, m in problems], file_text=text, status=422)
    return await decision_page(request, lang, raw, parsed)


@router.post("/desk/{lang}/claims/edit")
async def edit_claim(request: Request, lang: str):
    lang = _lang(lang)
    user_of(request, lang, "adjudicate")
    form = await form_of(request)
    return claim_form(request, lang, forms.values_from_claim(_claim_json(form, lang)))


def _claim_json(form: dict, lang: str) -> dict:
    """The claim a decision page carries in its hidden `claim` field, through the same input gate as the
    API's request body (a hand-made field is as hostile as any body: depth, duplicate keys, sizes)."""
    text = form.get("claim")
    try:
        return parse_claim_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else b"", "json")
    except ClaimError as exc:
        detail = "; ".join(f"{'claim' if path == FILE else path}: {forms.message(msg, lang)}"
                           for path, msg in exc.problems)
        raise DeskError(400, "file_errors", detail) from None


# ---------------------------------------------------------------------------- 2. decision
def summary(decision: dict, ctx: Context, labels: Labels, lang: str) -> dict:
    """One table of the loss lines (claimed, coverage, paid, why) and the total, provisional while
    anything needs information, with the claimed amount waiting on it."""
    prog = ctx.catalogue[decision["programme"]]
    covs = decision["coverages"]
    waiting = {c for c, e in covs.items() if e["status"] == "needs_information"}
    rows, hold = [], 0
    for ln in decision["lines"]:
        cov = ln.get("coverage")
        status = covs[cov]["status"] if cov in covs else None
        if cov in waiting:
            hold += ln["claimed"]
        cuts = [s for s in ln["steps"] if s.get("cut")]
        if status == "needs_information":  # on hold: which facts it waits for
            asked = [n["field"] for n in decision["needs_information"] if cov in n["coverages"]]
            why = f"{labels.doc_ui['statuses'][status][lang]}: {', '.join(asked)}"
        elif ln.get("refused"):
            why = ln["refused"]["text"] if lang == "ja" else ln["refused"].get("text_en", ln["refused"]["text"])
        elif status and status != "covered":
            why = labels.doc_ui["statuses"][status][lang]
        elif cuts:
            why = "; ".join(f"{labels.doc_ui['steps'].get(s['step'], {}).get(lang, s['step'])} −{s['cut']:,} "
                            f"({s.get('clause', '')})" for s in cuts)
        else:
            why = (ln.get("basis") or {}).get("clause", "")
        rows.append({"number": ln["index"] + 1, "category": labels.choice("losses.category", ln["category"], lang),
                     "claimed": ln["claimed"], "paid": ln["paid"],
                     "coverage": prog.coverages[cov]["label"][lang] if cov else "—",
                     "status": status, "why": why})
    return {"rows": rows, "claimed": sum(r["claimed"] for r in rows), "paid": decision["total_payable"],
            "provisional": bool(decision["needs_information"]), "hold": hold}


def questions(decision: dict, claim: dict, labels: Labels, lang: str) -> list[dict]:
    """Each missing fact: the question in plain words, its widget and its accepted values."""
    out = []
    for need in decision["needs_information"]:
        node = forms.node_for(need["field"])
        accepted = []
        if node is not None and node.kind in ("select", "multi"):
            accepted = [labels.choice(node.path, c, lang) for c in node.choices]
        elif node is not None:
            accepted = [{"date": "YYYY-MM-DD", "int": "0, 1, 2, …", "bool": f"{labels.word('answer_yes', lang)} / "
                         f"{labels.word('answer_no', lang)}"}.get(node.kind, "")]
        out.append({"field": need["field"], "label": labels.field(node.path, lang) if node else need["field"],
                    "why": need["why"] if lang == "ja" else need["why_en"], "node": node,
                    "answerable": node is not None and node.kind not in ("group", "rows"),
                    "accepted": [a for a in accepted if a]})
    return out


async def decision_page(request: Request, lang: str, claim: dict, parsed, decision: dict | None = None,
                        recorded: dict | None = None, duplicate: bool = False, status: int = 200) -> HTMLResponse:
    d = desk(request)
    ctx = d.ctx

    def work() -> tuple[dict, str]:
        with ENGINE_LOCK:
            dec = decision or decide(parsed, ctx.book, ctx.catalogue)
            # a refusal or cut waiting for its second review (issue 20) is a draft: as recorded, or (not
            # recorded, or already recorded: the 409 page) as the API says it, if it would need one (N7)
            draft = recorded_draft if recorded else bool(review_need(dec, ctx.catalogue))
            return dec, render(dec, fmt="html", lang=lang, claim=parsed, book=ctx.book, catalogue=ctx.catalogue,
                               draft=draft)
    recorded_draft = bool(recorded) and ctx.ledger().state(parsed.claim_id or "")["draft"]
    dec, html = await run_in_threadpool(work)
    return page(request, "decision.html", lang, status=status, decision=dec, claim_json=json.dumps(claim, ensure_ascii=False),
                summary=summary(dec, ctx, d.labels, lang), questions=questions(dec, claim, d.labels, lang),
                document=document_body(html), values=forms.values_from_claim(claim), recorded=recorded,
                duplicate=duplicate, none_tick=forms.NONE_TICK,
                programme_label=ctx.catalogue[dec["programme"]].label[lang])


@router.post("/desk/{lang}/claims/answer")
async def answer(request: Request, lang: str):
    lang = _lang(lang)
    user_of(request, lang, "adjudicate")
    form = await form_of(request)
    claim = _claim_json(form, lang)
    fields = form.get("fields") or []
    fields = [fields] if isinstance(fields, str) else list(fields)
    new, values, local = forms.set_answer(claim, {k: v for k, v in form.items()
                                                  if k not in ("csrf", "claim", "fields")}, fields)
    parsed, problems = _validate(desk(request).ctx, new) if not local else (None, [])
    if local or problems:
        return claim_form(request, lang, values, _problems(lang, local, problems), status=422)
    return await decision_page(request, lang, new, parsed)


@router.post("/desk/{lang}/claims/show")
async def show_again(request: Request, lang: str):
    """The decision of a claim carried by a form (the language switch of a decision page)."""
    lang = _lang(lang)
    user_of(request, lang, "adjudicate")
    claim = _claim_json(await form_of(request), lang)
    parsed, problems = _validate(desk(request).ctx, claim)
    if problems:
        return claim_form(request, lang, forms.values_from_claim(claim), _problems(lang, [], problems), status=422)
    return await decision_page(request, lang, claim, parsed)


# ---------------------------------------------------------------------------- 3. record
@router.post("/desk/{lang}/claims/record")
async def record(request: Request, lang: str):
    lang = _lang(lang)
    sess = user_of(request, lang, "adjudicate")
    if not allowed(sess["role"], "record"):
        raise DeskError(403, "cannot_record")
    form = await form_of(request)
    claim = _claim_json(form, lang)
    readjudicate = form.get("readjudicate") == "1"
    ctx = desk(request).ctx
    parsed, problems = _validate(ctx, claim)
    if problems:
        return claim_form(request, lang, forms.values_from_claim(claim), _problems(lang, [], problems), status=422)
    if not parsed.claim_id:
        return claim_form(request, lang, forms.values_from_claim(claim),
                          {"claim_id": [desk(request).labels.word("need_claim_id", lang)]}, status=422)

    def work():
        def decide_fn(c, note):
            with ENGINE_LOCK:
                return decide(c, ctx.book, ctx.catalogue, note)
        try:
            with RECORD_LOCK:
                return ctx.ledger().record(claim, parsed, ctx.catalogue, decide_fn, readjudicate=readjudicate,
                                           recorded_by=sess["user"])
        except (LedgerUnavailable, LedgerDamaged):   # the service's trouble: the app's 503 page
            raise
        except LedgerError as exc:
            if "already recorded" in str(exc):
                return None
            raise DeskError(422, "handling_error", str(exc)) from None  # "Not recorded", with the ledger's reason
    result = await run_in_threadpool(work)
    if result is None:
        return await decision_page(request, lang, claim, parsed, duplicate=True, status=409)
    seq, decision = result
    effective = ctx.ledger().find(seq=seq).effective
    eff = parse_claim(effective, ctx.catalogue)
    return await decision_page(request, lang, claim, eff, decision=decision, recorded={"seq": seq})


# ---------------------------------------------------------------------------- 6. rulebook
RULES_PAGE = 30
@router.get("/desk/{lang}/rules")
def rulebook(request: Request, lang: str, programme: str | None = None, page_no: int = Query(1, alias="page")):
    lang = _lang(lang)
    user_of(request, lang, "reference")
    ctx = desk(request).ctx
    book, cat = ctx.book, ctx.catalogue
    chosen = programme if programme in cat.programmes else next(iter(cat.programmes))
    rules = sorted(book.for_programme(chosen), key=lambda r: (_clause_key(r.clause), r.id))
    prog = cat[chosen]
    plans, columns = [], {}
    for name, plan in prog.plans.items():
        cells = {}
        for cov, node in plan["limits"].items():
            label = prog.coverages.get(cov, {}).get("label", {}).get(lang, cov)
            subs = node.items() if isinstance(node, dict) and "value" not in node else [(None, node)]
            for sub, n in subs:
                key = f"{cov}/{sub}" if sub else cov
                columns.setdefault(key, {"coverage": label, "facility": d_label(ctx, sub, lang) if sub else ""})
                cells[key] = {"value": value(n), "ref": n.get("reference", "") if isinstance(n, dict) else ""}
        plans.append({"name": name, "kind": plan.get("kind", ""), "cells": cells})
    choices = [r for r in rules if r.choice]
    where = {r.id: i // RULES_PAGE + 1 for i, r in enumerate(rules)}  # the page each rule is on
    pages = max(1, -(-len(rules) // RULES_PAGE))
    page_no = max(1, min(page_no, pages))
    shown = rules[(page_no - 1) * RULES_PAGE: page_no * RULES_PAGE]
    return page(request, "rules.html", lang, programmes={p: cat[p].label[lang] for p in cat.programmes},
                chosen=chosen, rules=shown, total_rules=len(rules), where=where, page=page_no, pages=pages,
                plans=plans, columns=columns, choices=choices, version=book.version, sha256=book.sha256,
                out_of_scope=[_oos_in(o, lang) for o in book.out_of_scope
                              if chosen in str(o.get("programme", o.get("programmes", chosen)))],
                dump=lambda v: json.dumps(v, ensure_ascii=False, default=str))


def _oos_in(item: dict, lang: str) -> dict:
    """An out-of-scope item in the page's language: `item`/`reason` are English, `item_ja`/`reason_ja`
    Japanese; a text missing in Japanese falls back to English and says so with its lang attribute."""
    out = {"clause": item.get("clause", "")}
    for field in ("item", "reason"):
        ja = item.get(f"{field}_ja") if lang == "ja" else None
        out[field], out[f"{field}_lang"] = (ja, "ja") if ja else (item.get(field, ""), "en")
    return out


def d_label(ctx: Context, key: str, lang: str) -> str:
    return ctx.book.ui.get("facilities", {}).get(key, {}).get(lang, key)


def _clause_key(clause: str) -> list:
    """§5 before §10: ASCII digit runs compare as numbers (①, ② and the like as text)."""
    return [(0, int(t), "") if re.fullmatch(r"[0-9]+", t) else (1, 0, t) for t in re.split(r"([0-9]+)", clause) if t]


# ---------------------------------------------------------------------------- 7. scenarios
EXAMPLE_FEATURE = {
    "en": "Feature: The Nagano worked example\n\n  Scenario: 004 §6 pays 16,347,500 yen\n"
          "    Given the claim file \"scenarios/examples/nagano_seed_example.yaml\"\n"
          "    When the claim is adjudicated\n    Then the total payable is 16,347,500 yen\n",
    "ja": "# language: ja\n機能: 長野の支払例\n\n  シナリオ: 004 §6 の支払額は 16,347,500 円\n"
          "    前提 請求ファイル「scenarios/examples/nagano_seed_example.yaml」\n"
          "    もし 判定する\n    ならば 支払額合計は 16,347,500 円\n",
}


@router.get("/desk/{lang}/scenarios")
def scenarios_page(request: Request, lang: str):
    lang = _lang(lang)
    user_of(request, lang, "scenarios")
    return page(request, "scenarios.html", lang, text=EXAMPLE_FEATURE[lang], result=None)


@router.post("/desk/{lang}/scenarios")
async def run_scenarios(request: Request, lang: str):
    lang = _lang(lang)
    user_of(request, lang, "scenarios")
    form = await form_of(request)
    text = text_of(form, "text")[:100_000]
    ctx = desk(request).ctx
    result = await run_in_threadpool(scenario_run.run, text, ctx.settings.rules)
    plain_words(result, desk(request).labels)
    return page(request, "scenarios.html", lang, text=text, result=result)


def plain_words(result: dict, labels: Labels) -> None:
    """The run's outcome in the scenario's own language: verdicts, expected / actual, the waterfall
    steps (by their labels) that cut the amount."""
    lang = result["lang"]
    result["words"] = labels.words_for(lang)
    ui = labels.doc_ui
    for sc in result["scenarios"]:
        for st in sc["steps"]:
            msg = st.get("message", "")
            # the step library writes them in the scenario's language (scenarios/conftest.py)
            exp = re.search(r"^(?:expected|期待): +(.*)$", msg, re.M)
            act = re.search(r"^(?:actual|実際): +(.*)$", msg, re.M)
            st["expected"], st["actual"] = (exp.group(1), act.group(1)) if exp and act else ("", "")
            for c in st.get("cuts", []):
                c["category"] = labels.choice("losses.category", c["category"], lang)
                c["step"] = ui.get("steps", {}).get(c["step"], {}).get(lang, c["step"])


# ---------------------------------------------------------------------------- accounts (admin)
@router.get("/desk/{lang}/users")
def users_page(request: Request, lang: str):
    """The accounts and their roles (tokens are made with `adjudicator users add`; only hashes are kept)."""
    lang = _lang(lang)
    user_of(request, lang, "users")
    return page(request, "users.html", lang, users=desk(request).ctx.ledger().list_users())


# ---------------------------------------------------------------------------- errors, registration
def register(app: FastAPI) -> None:
    """Mount the desk on the service's app: pages, static assets, and their HTML error pages."""
    app.state.desk = Desk(app.state.ctx)
    app.include_router(router)
    app.include_router(ledger_pages.router)
    app.mount("/desk/static", StaticFiles(directory=str(HERE / "static")), name="desk-static")

    @app.exception_handler(DeskError)
    async def desk_error(request: Request, exc: DeskError):
        return error_page(request, exc.status, exc.word) if not exc.detail else page(
            request, "message.html", (re.match(r"^/desk/(ja|en)/", request.url.path) or [None, "ja"])[1],
            status=exc.status, word=exc.word, detail=exc.detail)

    @app.exception_handler(Redirect)
    async def redirect(request: Request, exc: Redirect):
        return RedirectResponse(exc.url, status_code=303)


def error_page(request: Request, status: int, word: str) -> HTMLResponse:
    m = re.match(r"^/desk/(ja|en)/", request.url.path)
    try:
        return page(request, "message.html", m.group(1) if m else "ja", status=status, word=word, detail="")
    except Exception:  # the error page itself failed: a plain sentence, never a trace
        return HTMLResponse("<!DOCTYPE html><title>error</title><p>The desk could not complete the request.</p>",
                            status_code=status)


def is_desk(path: str) -> bool:
    return path == "/" or path.startswith("/desk")


__all__ = ["register", "is_desk", "error_page"]
