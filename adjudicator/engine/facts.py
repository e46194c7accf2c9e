"""Turn a validated claim into the small flat facts the rule engine matches.

One `claim` fact (flat properties, dates as day numbers, list members as boolean flags) and one
`line` fact per loss line. Absent optional fields stay absent, so a rule can tell "unknown"
(`present: false`) from "no" (an empty list or `none`).

FIELDS is the vocabulary rules may use: each path of the claim-file contract, plus a few derived
quantities (labelled, with their reference) that the rules compare against.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from ..contract.claim import Claim, LossLine
from ..policy.catalogue import Programme


@dataclass(frozen=True)
class Field:
    path: str
    kind: str  # "scalar" | "int" | "bool" | "date" | "list"
    label: str
    reference: str = "000/004 claim-file contract"
    key: str = ""      # the flat property name in the fact (derived from path)
    parts: tuple = ()  # path split into attribute names

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.path.replace(".", "__"))
        object.__setattr__(self, "parts", tuple(self.path.split(".")))


def _get(obj: Any, parts: tuple) -> Any:
    for part in parts:
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


_CLAIM_FIELDS = [
    Field("policy.plan", "scalar", "plan / type (加入タイプ)"),
    Field("policy.facility", "scalar", "facility kind"),
    Field("policy.lost_profit_limit", "int", "lost-profit option limit"),
    Field("policy.enrolled_on", "date", "application receipt date (中途加入)"),
    Field("policy.retroactive_date", "date", "retroactive date (遡及日)"),
    Field("policy.jma_member", "bool", "JMA A① member"),
    Field("incident.occurred_on", "date", "date the incident occurred (事由発生日)"),
    Field("incident.discovered_on", "date", "date the incident was discovered"),
    Field("incident.claim_made_on", "date", "date damages were first claimed"),
    Field("incident.cause", "scalar", "cause"),
    Field("incident.attack.kind", "scalar", "attack kind"),
    Field("incident.attack.status", "scalar", "attack status"),
    Field("incident.attack.state_sponsored", "bool", "state-sponsored attack"),
    Field("incident.discovered_by", "scalar", "who brought the (suspected) attack to the insured's attention"),
    Field("incident.leak.status", "scalar", "leak status"),
    Field("incident.leak.personal_records", "int", "persons whose personal information leaked"),
    Field("incident.leak.subjects", "list", "whose personal information leaked"),
    Field("incident.leak.corporate_info", "bool", "corporate information leaked"),
    Field("incident.leak.obtained_by_deceit", "bool", "information obtained by deceit"),
    Field("incident.evidence", "list", "how the leak became objectively evident"),
    Field("incident.evidence_dates.insurer_notified", "date", "date of the written notice to the insurer",
          "000 §9 注1① (claim-file addition, issue 17)"),
    Field("incident.evidence_dates.public_announcement", "date", "date of the public announcement / apology advertisement",
          "000 §9 注1②; 004 §5 (claim-file addition, issue 17)"),
    Field("incident.evidence_dates.apology_letters", "date", "date the apology letters were sent",
          "000 §9 注1③; 004 §5 (claim-file addition, issue 17)"),
    Field("incident.evidence_dates.authority_report", "date", "date of the filing with / notice from a public agency",
          "000 §9 注1④ (claim-file addition, issue 17)"),
    Field("incident.acts.intentional", "scalar", "who acted intentionally"),
    Field("incident.acts.crime", "scalar", "who committed a crime"),
    Field("incident.acts.known_violation", "scalar", "who knowingly broke the law"),
    Field("incident.circumstances", "list", "circumstances that can trigger exclusions"),
    Field("incident.software_days_in_production", "int", "days the new/revised software had been in production"),
    Field("incident.software_defect_caused", "bool", "the accident was caused by a defect of the new/revised software",
          "000 §15 利益固有⑧ (claim-file addition)"),
    Field("incident.breach_of_law_recognised", "bool", "the insured recognised the accident may breach a law",
          "000 §8 イ④; §9 イ② (claim-file addition)"),
    Field("incident.closure_days", "int", "days closed (休業日数)"),
    Field("incident.reports", "list", "reports made"),
]

_DERIVED = [
    Field("cover.start", "date", "start of cover: period start or mid-term enrolment start",
          "000 §14 中途加入; 004 加入にあたって 中途加入"),
    Field("cover.end", "date", "end of cover (period end)", "000 §14; 004 表紙"),
    Field("incident.leak.subjects_count", "int", "number of kinds of data subject that leaked",
          "000 §15 費用固有② (officers only)"),
    Field("losses.categories", "list", "loss categories claimed", "claim-file contract: losses"),
    Field("incident.evidence_in_period", "list", "evidence items dated inside the cover (cover.start .. cover.end)",
          "000 §9 注1; 004 §5 「保険期間中に」 (issue 17)"),
    Field("incident.evidence_undated", "list", "evidence items given without their date",
          "000 §9 注1; 004 §5 (issue 17)"),
]

LINE_FIELDS = [
    Field("line.category", "scalar", "loss category"),
    Field("line.amount", "int", "amount claimed (yen)"),
    Field("line.persons", "int", "persons the line is for"),
    Field("line.index", "int", "position of the line in losses (0-based)"),
]

FIELDS: dict[str, Field] = {f.path: f for f in _CLAIM_FIELDS + _DERIVED + LINE_FIELDS}


def ordinal(d: dt.date) -> int:
    return d.toordinal()


def _put(fact: dict, field: Field, raw: Any) -> None:
    if raw is None:
        return
    if field.kind == "date":
        fact[field.key] = ordinal(raw)
    elif field.kind == "list":
        fact[field.key] = len(raw)  # the list was given (possibly empty)
        for member in raw:
            fact[f"{field.key}__{member}"] = True
    else:
        fact[field.key] = raw


_kept: dict = {}


def _claim_fields(keep: frozenset | None) -> list[Field]:
    """The claim fields a programme's rules read, in order (worked out once per `keep`)."""
    fields = _kept.get(keep)
    if fields is None:
        fields = _kept[keep] = [f for f in _CLAIM_FIELDS if keep is None or f.path in keep]
    return fields


def claim_fact(claim: Claim, programme: Programme, keep: frozenset | None = None) -> dict:
    """The claim fact; with `keep`, only those fact paths (the ones the programme's rules read)."""
    plan = claim.policy.plan if programme.plans else None
    fact: dict[str, Any] = {"id": "claim", "t": "claim", "plan_kind": programme.plan_kind(plan)}
    for f in _claim_fields(keep):
        _put(fact, f, _get(claim, f.parts))
    if keep is None or "cover.start" in keep:
        _put(fact, FIELDS["cover.start"], programme.cover_start(claim.policy.enrolled_on))
    if keep is None or "cover.end" in keep:
        _put(fact, FIELDS["cover.end"], programme.period_end)
    leak = claim.incident.leak
    if (keep is None or "incident.leak.subjects_count" in keep) and leak is not None and leak.subjects is not None:
        fact[FIELDS["incident.leak.subjects_count"].key] = len(set(leak.subjects))
    evidence = claim.incident.evidence
    if evidence is not None and (keep is None or "incident.evidence_in_period" in keep
                                 or "incident.evidence_undated" in keep):
        dates = claim.incident.evidence_dates
        start, end = programme.cover_start(claim.policy.enrolled_on), programme.period_end
        on = {k: getattr(dates, k) if dates is not None else None for k in evidence}
        _put(fact, FIELDS["incident.evidence_in_period"], sorted(k for k, d in on.items() if d and start <= d and (end is None or d <= end)))
        _put(fact, FIELDS["incident.evidence_undated"], sorted(k for k, d in on.items() if d is None))
    if keep is None or "losses.categories" in keep:
        _put(fact, FIELDS["losses.categories"], sorted({line.category for line in claim.losses}))
    return fact


# What claim_fact computes from more than its own field: each derived fact (and the plan kind) with the
# claim-file fields it is computed from (`a.*`: any field under a). Kept beside claim_fact: a change to one
# of these fields can change the derived fact (why_not.py builds a pair of changes' claim fact from what
# each change gave alone only where their fields feed no fact in common; tests/test_perf_identity.py).
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "plan_kind": ("policy.plan",),
    "cover.start": ("policy.enrolled_on",),
    "cover.end": (),
    "incident.leak.subjects_count": ("incident.leak.subjects",),
    "incident.evidence_in_period": ("incident.evidence", "incident.evidence_dates.*", "policy.enrolled_on"),
    "incident.evidence_undated": ("incident.evidence", "incident.evidence_dates.*"),
    "losses.categories": ("losses",),
}


@functools.lru_cache(maxsize=1024)
def facts_fed_by(field: str) -> frozenset:
    """The claim fact paths a change to this claim-file field can change: its own, and the derived ones."""
    own = {field} if field in FIELDS else set()
    return frozenset(own | {d for d, sources in DERIVED_FROM.items()
                            if any(field == s or (s.endswith(".*") and field.startswith(s[:-1])) for s in sources)})


def line_fact(index: int, line: LossLine, plan_kind: str, claim: dict | None = None, claim_keys: tuple = ()) -> dict:
    """A loss line's fact; with claim_keys, the claim fact's properties under those keys (and their
    list-member flags `<key>__<member>`) copied in, so that a line rule reading the claim needs no join."""
    fact = {"id": f"line{index}", "t": "line", "plan_kind": plan_kind, "line__index": index,
            "line__category": line.category, "line__amount": line.amount}
    if line.persons is not None:
        fact["line__persons"] = line.persons
    if claim_keys:
        fact.update(claim_part(claim, claim_keys))
    return fact


def claim_part(claim: dict, claim_keys: tuple) -> dict:
    out = {}
    for k, v in claim.items():
        if k in claim_keys or (k.rpartition("__")[0] in claim_keys and v is True):
            out[k] = v
    return out


def claim_facts(claim: Claim, programme: Programme, keep: frozenset | None = None, claim_keys: tuple = ()) -> list[dict]:
    head = claim_fact(claim, programme, keep)
    part = claim_part(head, claim_keys) if claim_keys else None
    lines = [line_fact(i, ln, head["plan_kind"]) for i, ln in enumerate(claim.losses)]
    if part:
        for ln in lines:
            ln.update(part)
    return [head] + lines


def to_fact_value(field: Field, literal: Any) -> Any:
    """Convert a literal written in a rule to the representation used in facts."""
    if field.kind == "date":
        if isinstance(literal, str):
            literal = dt.date.fromisoformat(literal)
        return ordinal(literal)
    return literal

