"""Who may do what. A request carries `Authorization: Bearer TOKEN`; the token's sha256 is looked up
in the ledger's users table. Missing or unknown token: 401; a role without the permission: 403."""
from __future__ import annotations

# Each role can do only its job (issue 11): the one table to change who may do what.
PERMISSIONS: dict[str, frozenset[str]] = {
    "adjudicate": frozenset({"handler", "underwriter"}),
    "record": frozenset({"handler"}),
    "read_ledger": frozenset({"handler", "auditor"}),
    "verify": frozenset({"auditor"}),
    "replay": frozenset({"auditor"}),
    "diff": frozenset({"underwriter"}),
    "reference": frozenset({"handler", "underwriter", "auditor"}),  # rules, plans, quote, schema
    "users": frozenset({"admin"}),
    "scenarios": frozenset({"underwriter"}),          # desk: run Gherkin scenarios against the rulebook
    "work_list": frozenset({"handler"}),              # the handler's open claims and payment dates (desk, API)
    # 二次査定 (issue 20): a handler account other than the one that recorded the decision (the ledger
    # refuses that one); underwriters and admins do not adjudicate claims, auditors only read.
    "review": frozenset({"handler"}),
}

# Permissions only the desk's pages use (no /api/v1 route needs them).
DESK_ONLY = frozenset({"scenarios"})


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        return None
    return token


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]
