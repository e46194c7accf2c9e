"""What every desk page shares: templates, labels, sessions; the logged-in user and the role check;
posted forms with their CSRF token; the page response with its security headers."""
from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from ...documents.render import yen
from ..auth import allowed
from ..context import Context
from .labels import LANGS, Labels
from .session import COOKIE, Sessions, csrf_ok, same_session

HERE = Path(__file__).resolve().parent

# Pages of the navigation: (key, path, permission)
NAV = [("nav_new", "claims/new", "adjudicate"), ("nav_work", "work", "work_list"),
       ("nav_ledger", "ledger", "read_ledger"), ("nav_rules", "rules", "reference"),
       ("nav_scenarios", "scenarios", "scenarios"), ("nav_users", "users", "users")]
HOME = {"handler": "claims/new", "underwriter": "scenarios", "auditor": "ledger", "admin": "users"}
# The desk's pages carry one small script and one style sheet, both from /desk/static.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class DeskError(Exception):
    def __init__(self, status: int, word: str, detail: str = ""):
        self.status, self.word, self.detail = status, word, detail


class Desk:
    """What the pages share: templates, labels, sessions."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        secret = ctx.settings.secret or secrets.token_urlsafe(32)
        self.sessions = Sessions(secret)
        self.labels = Labels(ctx.book, {p: prog.label for p, prog in ctx.catalogue.programmes.items()})
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                                      autoescape=True, undefined=jinja2.StrictUndefined,
                                      trim_blocks=True, lstrip_blocks=True)
        self.env.filters["yen"] = lambda n, lang="ja": yen(n, lang) if isinstance(n, int) else "—"
        self.env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else "—"
        self.env.globals["quote"] = lambda s: quote(str(s), safe="")


def desk(request: Request) -> Desk:
    return request.app.state.desk


def _lang(lang: str) -> str:
    if lang not in LANGS:
        raise DeskError(404, "not_found")
    return lang


def session_of(request: Request) -> dict | None:
    d = desk(request)
    data = d.sessions.loads(request.cookies.get(COOKIE))
    if data and data.get("user") and not same_session(data, d.ctx.ledger().desk_account(str(data["user"]))):
        data = {"csrf": data.get("csrf")}  # disabled, role changed, token rotated or logged out: no session
    return data


def user_of(request: Request, lang: str, permission: str | None = None) -> dict:
    """The logged-in user (redirect to the login page otherwise), if the role has `permission`."""
    data = session_of(request)
    if not data or not data.get("user"):
        raise Redirect(f"/desk/{lang}/login?next={quote(request.url.path, safe='/')}")
    request.state.user = data["user"]
    if permission and not allowed(data["role"], permission):
        raise DeskError(403, "forbidden")
    return data


class Redirect(Exception):
    def __init__(self, url: str):
        self.url = url


async def form_of(request: Request, files: tuple[str, ...] = ()) -> dict[str, Any]:
    """The posted form (fields of one name: a list), its CSRF token checked, its size bounded; a file
    part is taken only for a field named in `files` (elsewhere it would be read as its repr: refused)."""
    limit = desk(request).ctx.settings.max_body
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > limit:
        raise DeskError(413, "too_large", f"{limit:,} bytes")
    data = await request.form(max_files=2, max_fields=2000, max_part_size=limit)
    out: dict[str, Any] = {}
    for key in data.keys():
        vals = data.getlist(key)
        out[key] = vals if len(vals) > 1 else vals[0]
    if not csrf_ok(session_of(request), out.get("csrf") if isinstance(out.get("csrf"), str) else None):
        raise DeskError(403, "bad_form")
    for key, vals in out.items():
        if key not in files and any(not isinstance(v, str) for v in (vals if isinstance(vals, list) else [vals])):
            raise DeskError(400, "not_text", key)
    return out


def text_of(form: dict[str, Any], key: str) -> str:
    """A field that holds one text ("" when not sent): sent twice, it is refused, never read as a list's repr."""
    value = form.get(key)
    if isinstance(value, list):
        raise DeskError(400, "not_text", key)
    return value or ""


def page(request: Request, template: str, lang: str, status: int = 200, **view: Any) -> HTMLResponse:
    d = desk(request)
    sess = session_of(request) or {}
    role = sess.get("role")
    words = d.labels.words_for(lang)
    path = request.url.path
    other = "en" if lang == "ja" else "ja"
    nav = [{"label": words[k], "href": f"/desk/{lang}/{p}", "current": path.startswith(f"/desk/{lang}/{p}")}
           for k, p, perm in NAV if role and allowed(role, perm)]
    html = d.env.get_template(template).render(
        lang=lang, other=other, switch=_switch(request, other),
        switch_post=request.method == "POST", w=words, nav=nav, user=sess.get("user"), role=role,
        role_label=words["roles"].get(role, role) if role else "", csrf=sess.get("csrf", ""),
        can=lambda perm: bool(role) and allowed(role, perm), labels=d.labels, **view)
    resp = HTMLResponse(html, status_code=status)
    resp.headers["Content-Security-Policy"] = PAGE_CSP
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


def _switch(request: Request, other: str) -> str:
    """The same page in the other language; after a form was posted, the page it was posted from."""
    path = re.sub(r"^/desk/(ja|en)", f"/desk/{other}", request.url.path)
    if request.method == "GET":
        return path + (f"?{request.url.query}" if request.url.query else "")
    handled = re.match(r"^/desk/\w+/claims/(.+)/(review|clock|benefit)$", path)
    if handled:  # a second review or clock form with a field error: the claim in the ledger
        return f"/desk/{other}/ledger?claim_id={quote(handled.group(1))}"
    if "/claims/" in path:
        return f"/desk/{other}/claims/new"
    return re.sub(r"/(replay|verify)$", "", re.sub(r"^(/desk/\w+/work)/\d+$", r"\1", path))


def document_body(html: str) -> str:
    """The explanation document's body (it is rendered by documents/, autoescaped), to sit in the page."""
    m = re.search(r"<body>(.*)</body>", html, re.S)
    return m.group(1) if m else ""
