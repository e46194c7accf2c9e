"""The input gate's limits, in one place: sizes, nesting, YAML aliases, identifiers, dates, counts.

Defaults are sized for real claims (a claim file of the contract is 1-3 KB; one with a thousand
loss lines and notes stays under 1 MB). Each size can be changed with an environment variable
(read once, at import) or per call by passing a `Limits` to the reading functions (the service
does, for request bodies).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os

# Every count and amount stays below 2**53: the largest integer the rule engine compares exactly,
# and the largest a JSON reader in any language reads exactly.
MAX_INT = 2 ** 53 - 1


@dataclasses.dataclass(frozen=True)
class Limits:
    max_bytes: int = 1_000_000          # a claim file, a JSONL line, a request body
    max_string: int = 10_000            # any string anywhere in a claim (before the contract's own bounds)
    max_depth: int = 24                 # nesting of mappings and lists (the contract needs 4)
    max_nodes: int = 20_000             # values in one claim, YAML aliases expanded (1,000 loss lines: ~5,000)
    max_key: int = 64                   # a mapping key (the contract's keys are short words)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise SystemExit(f"{name}: expected a whole number, got {raw[:20]!r}") from None
    if n <= 0:
        raise SystemExit(f"{name}: expected a positive number, got {n}")
    return n


DEFAULT = Limits(
    max_bytes=_env_int("ADJUDICATOR_MAX_CLAIM_BYTES", Limits.max_bytes),
    max_string=_env_int("ADJUDICATOR_MAX_STRING", Limits.max_string),
    max_depth=_env_int("ADJUDICATOR_MAX_DEPTH", Limits.max_depth),
    max_nodes=_env_int("ADJUDICATOR_MAX_NODES", Limits.max_nodes),
)

# The contract's own bounds (claim.py); not configurable: they keep decisions representable.
MAX_ID = 64                 # claim_id, policy_number, plan: printable, Japanese allowed
MAX_TEXT = 2_000            # free text (losses[].note)
MAX_LOSS_LINES = 1_000
MAX_LIST = 100              # circumstances, subjects, evidence, reports (each from a short enumeration)
# Persons: more than Japan's population (about 124 million) is no real leak of a medical institution;
# the bound keeps a per-person cap times persons far below MAX_INT (policy/claims.py checks the product).
MAX_PERSONS = 200_000_000
MAX_DAYS = 36_600           # closure_days, software_days_in_production: a hundred years
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)
# Dates must also lie within this many years of the programme's period (policy/claims.py).
PERIOD_WINDOW_YEARS = 30
QUOTE_CHARS = 40            # an error message quotes at most this many characters of a bad value
