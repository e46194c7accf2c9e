"""The response bodies of /api/v1, as pydantic models: they are what /openapi.json documents for each
route. The routes build their bodies as dicts (the ledger's and the engine's own shapes, serialised as
they are, so nothing is dropped or reformatted); extra="forbid" makes each schema exact
(additionalProperties: false), and tests/test_openapi.py holds real responses to these schemas."""
from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from ..contract.decision import Decision


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(_Out):
    field: str = Field(description="the field path, as the CLI prints it (`incident.discovered_by`, `query.limit`)")
    message: str


class ErrorBody(_Out):
    """Every 4xx and 5xx of /api/v1."""
    error: str = Field(description="a short code: unauthorized, forbidden, not_found, malformed_json, too_large, "
                                   "unsupported_media_type, invalid_claim, invalid_request, conflict, ledger_refused, "
                                   "internal_error, ...")
    message: str
    problems: list[Problem] = []


class Text(_Out):
    ja: str
    en: str


class VersionRef(_Out):
    version: str
    sha256: str


class EngineRef(_Out):
    version: str


class Health(_Out):
    status: Literal["ok"]
    engine: EngineRef
    rulebook: VersionRef


# ----------------------------------------------------------------- handling (review, payment clock)
class ReviewNeed(_Out):
    kind: Literal["refusal", "cut"]
    line: Optional[int]
    category: Optional[str]
    coverage: Optional[str]
    status: str
    clause: Optional[str]
    amount: Optional[int]


class Review(_Out):
    state: Literal["none", "pending_review", "approved", "returned"]
    why: list[ReviewNeed]
    by: Optional[str]
    at: Optional[str]
    note: Optional[str]


class Extension(_Out):
    reason: Optional[str]
    to: Optional[str]
    agreed_on: Optional[str]


class Pause(_Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    days: int
    note: Optional[str] = None


class PaidBefore(_Out):
    paid_on: str
    total_payable: int


class Clock(_Out):
    completed_on: Optional[str]
    extension: Optional[Extension]
    pauses: list[Pause]
    paused_days: int
    due_on: Optional[str]
    paid_on: Optional[str]
    # payments of an earlier decision of the claim that a re-adjudication raised: the difference is due again
    paid_before: list[PaidBefore] = []
    paid_amount: Optional[int] = None   # the yen the recorded payments came to
    steps: int = 0                      # clock steps recorded (then the claim file's payment no longer counts)


class BenefitMark(_Out):
    action: Literal["told", "declined"]
    on: str
    by: str
    at: str


class UnclaimedBenefit(_Out):
    key: str = Field(description="programme:coverage")
    programme: Optional[str]
    coverage: Optional[str]
    label: Optional[Text]
    amount: Optional[int]
    mark: Optional[BenefitMark]


class HandlingState(_Out):
    """A claim's second review and payment clock right after a record."""
    handler: Optional[str]
    decision_seq: int
    total_payable: int
    needs: int
    review: Review
    clock: Clock
    unclaimed: list[UnclaimedBenefit]


class ClaimHandling(HandlingState):
    """A claim's handling as it stands: its latest record (seq), and draft (documents say 案 / draft)."""
    claim_id: str
    seq: int
    draft: bool


class Event(_Out):
    """What a record did: a decision, or a handling step (review, clock, benefit) with its values."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["decision", "review", "clock", "benefit"]
    action: Optional[str] = None
    note: Optional[str] = None
    completed_on: Optional[str] = None
    reason: Optional[str] = None
    to: Optional[str] = None
    agreed_on: Optional[str] = None
    from_: Optional[str] = Field(default=None, alias="from")
    days: Optional[int] = None
    paid_on: Optional[str] = None
    paid_amount: Optional[int] = None        # paid: the yen the payment came to
    decision_seq: Optional[int] = None       # review: the decision record reviewed
    extension: Optional[Extension] = None    # remove_extension: the extension taken back
    extension_dropped: Optional[Extension] = None  # complete: an extension ending before the new due date
    key: Optional[str] = None
    on: Optional[str] = None


# ----------------------------------------------------------------- ledger records
class LedgerRecord(_Out):
    """One ledger record: the claim as given and as decided, the decision, who recorded it, the chain."""
    seq: int
    claim_id: str
    policy_number: Optional[str]
    programme: str
    period_start: str
    recorded_at: str
    recorded_by: Optional[str]
    supersedes: Optional[int]
    hash: str
    prev_hash: str
    engine_version: str
    rulebook: VersionRef
    input: dict[str, Any] = Field(description="the claim file as given (the claim-file contract)")
    effective: dict[str, Any] = Field(description="the claim as decided: with the prior payments the ledger held")
    decision: Decision
    kind: Literal["decision", "review", "clock", "benefit"]
    event: Optional[Event]
    handling: Optional[HandlingState] = Field(description="review and payment clock right after this record "
                                                          "(null for records written before schema 3)")


# One word, two things (both names are contract, never renamed; docs/CLAIM_FILE.md "Two statuses"):
# the claim search's status is the record's decision, the work list's the claim's payment state.
SEARCH_STATUS = ("the record's decision, not whether a payment was made: `paid` = the decision pays something "
                 "(total_payable > 0, a payment recorded or not), `not_paid` = it pays nothing and asks for nothing, "
                 "`needs_information` = it asks for facts. A claim's payment state is the work list's `status` "
                 "(GET /worklist).")
PAYMENT_STATUS = ("the claim's payment state (its latest record and clock), not the claim search's status "
                  "(GET /claims: the decision): `needs_information` = the decision asks for facts, `paid` = a "
                  "payment is recorded, `unpaid` = a payable amount not paid, `nothing_payable` = a refusal (pays "
                  "nothing, asks for nothing), never 未払")


class RecordSummary(_Out):
    seq: int
    claim_id: str
    policy_number: Optional[str]
    programme: str
    period_start: str
    recorded_at: str
    recorded_by: Optional[str]
    supersedes: Optional[int]
    total_payable: int
    hash: str
    status: Literal["paid", "not_paid", "needs_information"] = Field(description=SEARCH_STATUS)


class ClaimsPage(_Out):
    records: list[RecordSummary]
    next_cursor: Optional[int] = Field(description="pass as `cursor` for the next page; null on the last page")


class PolicyRecord(_Out):
    seq: int
    claim_id: str
    policy_number: Optional[str]
    programme: str
    period_start: str
    recorded_at: str
    recorded_by: Optional[str]
    supersedes: Optional[int]
    total_payable: int
    needs_information: bool
    paid: dict[str, int] = Field(description="what the record paid from each pool")
    hash: str


class Pool(_Out):
    pool: str
    label: Text
    limit: Optional[int] = Field(description="null where the limit comes from the policy and no record gives it")
    used: int
    left: Optional[int]
    reference: Optional[str]


class PolicyPeriod(_Out):
    programme: str
    period_start: str
    paid: dict[str, int]
    pools: list[Pool]
    records: list[PolicyRecord]


class PolicySummary(_Out):
    policy_number: str
    periods: list[PolicyPeriod]


class WorklistClaim(_Out):
    claim_id: str
    seq: int
    decision_seq: int
    policy_number: Optional[str]
    programme: str
    recorded_at: str
    total_payable: int
    needs: int
    review: Literal["none", "pending_review", "approved", "returned"]
    handler: Optional[str]
    completed_on: Optional[str]
    due_on: Optional[str]
    paid_on: Optional[str]
    status: Literal["needs_information", "paid", "unpaid", "nothing_payable"] = Field(description=PAYMENT_STATUS)
    payment_due: bool = Field(description="false for a refusal: no due date, never overdue")
    overdue: bool
    unpaid: bool = Field(description="未払: a payable amount unpaid past its due date")
    days_overdue: int
    to_do: list[Literal["second_review", "returned", "information", "completion", "payment", "benefits"]] = Field(
        description="what the claim waits for, in the order a handler takes it")
    clock: Clock
    review_detail: Review
    unclaimed: int
    unclaimed_detail: list[UnclaimedBenefit]


class Worklist(_Out):
    total: int
    today: str
    claims: list[WorklistClaim]


class Verified(_Out):
    ok: bool
    message: str


# ----------------------------------------------------------------- replay and diff
class CoverageChange(_Out):
    coverage: str
    status: list[Optional[str]] = Field(description="[under a, under b]")
    payable: list[int] = Field(description="[under a, under b]")


class Firing(_Out):
    rule: str
    fired_on: str


class Change(_Out):
    claim_id: Optional[str]
    total: list[int] = Field(description="[under a, under b]")
    coverages: list[CoverageChange]
    fired_only_in_a: list[Firing]
    fired_only_in_b: list[Firing]
    changed: bool


class Replay(_Out):
    seq: int
    claim_id: str
    identical: bool
    rulebook: VersionRef
    recorded_under: VersionRef
    change: Optional[Change]
    lines: list[str]


class DiffChanged(Change):
    index: int


class DiffInvalid(_Out):
    index: int
    problems: list[Problem]


class DiffTotals(_Out):
    a: int
    b: int


class DiffSummary(_Out):
    claims: int
    changed: int
    invalid: int
    total_payable: DiffTotals
    difference: int


class DiffResult(_Out):
    a: str
    b: str
    claims: list[Union[DiffChanged, DiffInvalid]]
    summary: DiffSummary


# ----------------------------------------------------------------- reference
class RuleEffect(_Out):
    kind: str
    target: Optional[str]
    coverages: Optional[list[str]]


class RuleOut(_Out):
    id: str
    clause: str
    programmes: list[str]
    plans: Optional[list[str]]
    on: Literal["claim", "line"]
    title: Text
    text: Text
    wording: Optional[str]
    choice: Optional[Text]
    effect: RuleEffect


class OutOfScope(_Out):
    clause: str
    item: str
    reason: str
    item_ja: str = Field(description="the item in Japanese, in the seeds' own terms")
    reason_ja: str


class Rules(_Out):
    version: str
    sha256: str
    rules: list[RuleOut]
    out_of_scope: list[OutOfScope]


class Period(_Out):
    start: str
    end: Optional[str]


class Plan(_Out):
    kind: str
    limits: dict[str, Union[int, None, dict[str, Optional[int]]]] = Field(
        description="yen per coverage or pool; per facility kind where the plan's limit depends on it")


class ProgrammeOut(_Out):
    label: Text
    period: Period
    coverages: dict[str, Text]
    plans: dict[str, Plan]


class Plans(_Out):
    programmes: dict[str, ProgrammeOut]


class QuoteOut(_Out):
    programme: str
    plan: str
    facility: str
    annual: Optional[int] = Field(description="the annual premium, yen; null: not tabulated, ask the agent")
    payable: Optional[int]
    reference: str
    note: str
    cover_start: Optional[str]
    months: Optional[int]


class JsonSchema(BaseModel):
    """A JSON Schema document (draft 2020-12, as pydantic writes it)."""
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    title: str
    type: Literal["object"]
    properties: dict[str, Any]
    required: list[str] = []
    defs: dict[str, Any] = Field(default={}, alias="$defs")
