"""The decision: pydantic v2 models of the output contract (docs/CLAIM_FILE.md, Decision).

Contract keys are kept as named there; extra keys (labels, steps, duties, notes, limits_applied)
are additions users need beside them.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictInt

Status = Literal["covered", "not_covered", "excluded", "needs_information"]


class _M(BaseModel):
    # Built on first use (the reference path, the tests, the service's OpenAPI), not at import: the fast
    # path never validates its output, and `adjudicator adjudicate` starts that much sooner.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Reason(_M):
    rule: Optional[str]
    clause: str
    text: str
    text_en: str
    effect: Optional[str] = None


class CoverageDecision(_M):
    status: Status
    payable: StrictInt = Field(ge=0)
    label: dict[str, str]
    reasons: list[Reason]
    steps: list[dict[str, Any]]
    why_not: Optional[dict[str, Any]] = None  # issue 20: what decided it, the smallest change that pays


class NeedInfo(_M):
    field: str
    why: str
    why_en: str
    rules: list[str]
    coverages: list[str]


class LineDecision(_M):
    index: int
    category: str
    claimed: StrictInt = Field(ge=0)
    coverage: Optional[str]
    paid: StrictInt = Field(ge=0)
    steps: list[dict[str, Any]]
    basis: Optional[dict[str, Any]] = None
    refused: Optional[dict[str, Any]] = None
    why_not: Optional[dict[str, Any]] = None


class TraceEntry(_M):
    rule: str
    clause: str
    effect: str
    targets: list[str]
    fired_on: str
    facts: dict[str, Any]


class Duty(_M):
    """A duty by id; its ja/en text is in rules/messages.yaml (duties) and in the documents."""
    id: str
    rule: str
    clause: str


class RulebookRef(_M):
    version: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Decision(_M):
    claim_id: Optional[str]
    programme: str
    plan: Optional[str]
    facility: Optional[str]
    coverages: dict[str, CoverageDecision]
    total_payable: StrictInt = Field(ge=0)
    needs_information: list[NeedInfo]
    unclaimed_benefits: list[dict[str, Any]] = []  # issue 20: reached by the facts, claimed by no loss line
    lines: list[LineDecision]
    limits_applied: list[dict[str, Any]]
    prior_payments: dict[str, Any]
    duties: list[Duty]
    notes: list[dict[str, Any]]
    trace: list[TraceEntry]
    rulebook: RulebookRef
    engine: dict[str, str]
