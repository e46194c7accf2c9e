"""Desk sessions: a signed cookie (HttpOnly, SameSite=Strict) holding the user's name, role, the
session's CSRF token and the account's session fingerprint (Ledger.desk_account: from the token hash and
a session generation); never the access token. Every request re-checks the account in the ledger: a
disabled or removed user, a rotated token, or a logout (which bumps the generation) ends the session at
once, so a copied cookie is worth nothing after them."""
from __future__ import annotations

import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "desk_session"
MAX_AGE = 8 * 3600  # a working day


class Sessions:
    def __init__(self, secret: str):
        self._s = URLSafeTimedSerializer(secret, salt="adjudicator-desk-session")

    def dumps(self, data: dict) -> str:
        return self._s.dumps(data)

    def loads(self, cookie: str | None) -> dict | None:
        if not cookie or len(cookie) > 4096:
            return None
        try:
            data = self._s.loads(cookie, max_age=MAX_AGE)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def new(user: dict | None) -> dict:
        data: dict[str, Any] = {"csrf": secrets.token_urlsafe(24)}
        if user:
            data.update(user=user["name"], role=user["role"], sid=user["session"])
        return data


def same_session(data: dict, account: dict | None) -> bool:
    """Whether the cookie's session is still the account's: enabled, same role, same session fingerprint."""
    return account is not None and not account["disabled"] and account["role"] == data.get("role") \
        and hmac.compare_digest(str(data.get("sid") or ""), account["session"])


def csrf_ok(session: dict | None, sent: str | None) -> bool:
    want = (session or {}).get("csrf")
    return bool(want and sent) and hmac.compare_digest(str(want), str(sent))


def set_cookie(response, value: str, secure: bool) -> None:
    response.set_cookie(COOKIE, value, max_age=MAX_AGE, httponly=True, samesite="strict", secure=secure,
                        path="/")
