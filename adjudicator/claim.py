"""The claim file: pydantic v2 models of ../shared/spec/CLAIM_FILE.md (the public input contract).

Strict on purpose: unknown keys, wrong types, negative amounts, impossible dates and values
outside an enumeration are errors, so a typo can never silently change a decision.
A field that is *absent* is different from a field that says "nothing": `evidence: []` means
no evidence exists, a missing `evidence` means the handler has not told us, and the rules
answer `needs_information` for it.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

Programme = Literal["fukuoka-cyber-2025", "nagano-privacy-2016", "jma-support"]
Facility = Literal["clinic", "dental_clinic", "hospital", "care_facility"]
Cause = Literal[
    "cyber_attack", "human_error", "media_loss", "media_theft", "system_failure",
    "employee_crime", "utility_outage", "fire_explosion", "natural_disaster",
]
AttackKind = Literal["ransomware", "unauthorized_access", "malware", "impersonation", "ddos", "website_defacement"]
AttackStatus = Literal["confirmed", "suspected", "ruled_out"]
DiscoveredBy = Literal[
    "public_agency", "security_vendor", "monitoring_service", "vendor_engaged_after_recognition",
    "self", "patient", "media", "other",
]
LeakStatus = Literal["confirmed", "suspected", "none"]
Subject = Literal["patients", "employees", "officers", "deceased", "others"]
Evidence = Literal["insurer_notified", "public_announcement", "apology_letters", "authority_report"]
Actor = Literal["none", "named_insured", "employee"]
Report = Literal["mhlw", "jma", "ppc", "individuals_notified"]

# The contract lists these circumstance flags; the last group are this project's additions for
# exclusions the contract's list does not name (see rules/README.md).
Circumstance = Literal[
    "war", "utility_outage", "bodily_injury", "property_damage", "business_nonperformance",
    "ip_infringement", "fee_dispute", "unfair_competition", "public_authority", "crypto_assets",
    "gross_negligence", "labour_dispute", "political_economic", "operator_absent",
    "political_violence", "satellite_failure", "untested_software", "natural_disaster", "pollution",
    "nuclear", "outside_ordinary_business", "household_family_claim", "employment_practices",
    "claim_by_other_insured", "no_access_control", "purpose_exceeded", "purpose_not_notified",
    "unrelated_purpose_change", "regulator_order_uncorrected", "third_party_provision_claim",
    "received_from_third_party_claim", "before_premium_received", "prior_knowledge",
    # additions
    "ip_copyright_trademark_design", "illegal_private_gain", "suit_before_retroactive_date",
    "aggravated_by_data_or_requests", "foreign_court", "national_security",
]

LossCategory = Literal[
    "damages", "mental_distress", "litigation_costs", "corporate_damages", "forensic_investigation",
    "network_isolation", "apology_letters", "apology_visits", "public_notice", "condolence_gifts",
    "call_center", "claim_handling", "staff_costs", "temporary_staff", "lawyer_consultation",
    "consulting", "system_repair", "data_recovery", "recurrence_prevention", "loss_mitigation",
    "subrogation", "certification", "corporate_apology", "regulatory_response", "lost_profit",
    "continuity_costs", "fine_penalty", "ransom_payment", "other",
]


def _iso_date(value: object) -> object:
    """Dates are ISO `YYYY-MM-DD` strings (JSON) or YAML dates; nothing else (no datetimes, no ints)."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date YYYY-MM-DD, not a date-time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
        except ValueError:
            _bad_date(value)
    raise ValueError("expected a date YYYY-MM-DD")


def _bad_date(value: str) -> None:
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
# Every count and amount stays below 2**53, the largest integer the rule engine compares exactly.
MAX_INT = 2 ** 53 - 1
Yen = Annotated[StrictInt, Field(ge=0, le=MAX_INT)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_INT)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Policy(_Strict):
    policy_number: Optional[Annotated[str, Field(min_length=1)]] = None
    plan: Optional[str] = None
    facility: Optional[Facility] = None  # required by fukuoka and nagano (limits, eligibility); checked in load.py
    lost_profit_limit: Optional[Annotated[StrictInt, Field(gt=0, le=MAX_INT)]] = None
    enrolled_on: Optional[Date] = None
    retroactive_date: Optional[Date] = None
    jma_member: Optional[StrictBool] = None


class Attack(_Strict):
    kind: Optional[AttackKind] = None
    status: Optional[AttackStatus] = None
    state_sponsored: Optional[StrictBool] = None


class Leak(_Strict):
    status: Optional[LeakStatus] = None
    personal_records: Optional[Count] = None
    subjects: Optional[list[Subject]] = None
    corporate_info: Optional[StrictBool] = None
    obtained_by_deceit: Optional[StrictBool] = None


class Acts(_Strict):
    """Who acted, for intent / crime / known breach. Absent means nobody is alleged to have."""
    intentional: Actor = "none"
    crime: Actor = "none"
    known_violation: Actor = "none"


class Incident(_Strict):
    occurred_on: Date
    discovered_on: Date
    claim_made_on: Optional[Date] = None
    cause: Optional[Cause] = None
    attack: Optional[Attack] = None
    discovered_by: Optional[DiscoveredBy] = None
    leak: Optional[Leak] = None
    evidence: Optional[list[Evidence]] = None
    acts: Acts = Acts()
    circumstances: list[Circumstance] = []
    software_days_in_production: Optional[Count] = None
    closure_days: Optional[Count] = None
    reports: Optional[list[Report]] = None


class LossLine(_Strict):
    category: LossCategory
    amount: Yen
    persons: Optional[Annotated[StrictInt, Field(ge=1, le=MAX_INT)]] = None
    note: Optional[str] = None


class PriorPayments(_Strict):
    liability: Yen = 0
    costs: Yen = 0
    brand_protect: Yen = 0
    lost_profit: Yen = 0


class Claim(_Strict):
    programme: Programme
    claim_id: Optional[Annotated[str, Field(min_length=1)]] = None
    policy: Policy
    incident: Incident
    losses: list[LossLine] = []
    prior_payments: Optional[PriorPayments] = None
