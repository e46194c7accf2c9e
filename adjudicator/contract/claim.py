"""The claim file: pydantic v2 models of docs/CLAIM_FILE.md (the public input contract).

Strict on purpose: unknown keys, wrong types, negative amounts, impossible dates and values
outside an enumeration are errors, so a typo can never silently change a decision.
A field that is *absent* is different from a field that says "nothing": `evidence: []` means
no evidence exists, a missing `evidence` means the handler has not told us, and the rules
answer `needs_information` for it.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from .limits import DATE_MAX, DATE_MIN, MAX_DAYS, MAX_ID, MAX_INT, MAX_LIST, MAX_LOSS_LINES, MAX_PERSONS, MAX_TEXT
from .text import CLAIM_ID_ASCII, claim_id_form, describe_char, policy_number_char, policy_number_form, quote, unsafe_char

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
        return _in_window(value)
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
        except ValueError:
            _bad_date(value)
        return _in_window(day)
    raise ValueError("expected a date YYYY-MM-DD")


def _bad_date(value: str) -> None:
    raise ValueError(f"expected a date YYYY-MM-DD, got {quote(value)}")


def _in_window(day: dt.date) -> dt.date:
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(f"{day.isoformat()} is outside {DATE_MIN.isoformat()} .. {DATE_MAX.isoformat()}")
    return day


def _identifier(value: str) -> str:
    """Claim ids, policy numbers, plan names: printable (Japanese allowed), bounded, not blank."""
    if len(value) > MAX_ID:
        raise ValueError(f"at most {MAX_ID} characters, got {len(value):,}")
    if not value.strip():
        raise ValueError("must not be empty or only spaces")
    bad = unsafe_char(value)
    if bad is not None:
        raise ValueError(f"printable characters only (letters of any script, digits, punctuation, spaces); "
                         f"{describe_char(value[bad])} at position {bad + 1}")
    if value != value.strip():
        raise ValueError("must not start or end with a space")
    return value


def _free_text(value: str) -> str:
    """Notes: bounded, without control, format (bidi) or line-separator characters."""
    if len(value) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT:,} characters, got {len(value):,}")
    bad = unsafe_char(value, allow_ideographic_space=True)
    if bad is not None:
        raise ValueError(f"no control characters (line breaks, tabs, escapes, bidi controls); "
                         f"{describe_char(value[bad])} at position {bad + 1}")
    if not value.strip(" \u3000"):
        raise ValueError("must not be empty or only spaces")
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
Identifier = Annotated[StrictStr, AfterValidator(_identifier)]


def _policy_number(value: str) -> str:
    """An identifier whose every character is one a reader can tell apart (text.policy_number_char)."""
    text = policy_number_form(value)
    bad = policy_number_char(text)
    if bad is not None:
        raise ValueError(f"letters, digits, space, - _ . / ( ) # and Japanese kana or kanji only (an aggregate is "
                         f"kept per number: look-alike and invisible characters would open a new one); "
                         f"{describe_char(text[bad])} at position {bad + 1}")
    return value


PolicyNumber = Annotated[StrictStr, AfterValidator(_identifier), AfterValidator(_policy_number)]


def _claim_id(value: str) -> str:
    """A claim id as the ledger's duplicate check compares it: NFKC with dash look-alikes read as '-'
    (ＦＫ－００１ is FK-001), and only characters a reader can tell apart (ASCII, kana, kanji): an
    invisible or look-alike character would record and pay the same claim twice (hostile probe).
    '.' and '..' alone are path segments a browser removes, so no page could reach the claim."""
    text = claim_id_form(value)
    bad = policy_number_char(text, CLAIM_ID_ASCII)
    if bad is not None:
        raise ValueError(f"ASCII letters, digits and marks, and Japanese kana or kanji only (look-alike and "
                         f"invisible characters would record the same claim twice); "
                         f"{describe_char(text[bad])} at position {bad + 1}")
    if text.strip(".") == "":
        raise ValueError("'.' and '..' are not claim ids")
    return text


ClaimId = Annotated[StrictStr, AfterValidator(_identifier), AfterValidator(_claim_id)]
Text = Annotated[StrictStr, AfterValidator(_free_text)]
# Every count and amount stays below 2**53, the largest integer the rule engine compares exactly;
# head counts and day counts have tighter bounds of their own (limits.py).
Yen = Annotated[StrictInt, Field(ge=0, le=MAX_INT)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_INT)]
Persons = Annotated[StrictInt, Field(ge=0, le=MAX_PERSONS)]
Days = Annotated[StrictInt, Field(ge=0, le=MAX_DAYS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Policy(_Strict):
    policy_number: Optional[PolicyNumber] = None
    insured_name: Optional[Annotated[Text, Field(min_length=1, max_length=200)]] = None  # 記名被保険者, documents only
    plan: Optional[Identifier] = None
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
    personal_records: Optional[Persons] = None
    subjects: Optional[Annotated[list[Subject], Field(max_length=MAX_LIST)]] = None
    corporate_info: Optional[StrictBool] = None
    obtained_by_deceit: Optional[StrictBool] = None


class EvidenceDates(_Strict):
    """When each item of `incident.evidence` was made (an addition, issue 17 item 5): 004 §5 pays brand
    protect only for an apology made 「保険期間中に」, and 000 §9 注1 counts leak-only evidence only when
    made in the period. Optional; an item of `evidence` without its date is unknown, and the rules ask
    for it (needs_information) instead of assuming it fell in the period."""
    insurer_notified: Optional[Date] = None
    public_announcement: Optional[Date] = None
    apology_letters: Optional[Date] = None
    authority_report: Optional[Date] = None


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
    evidence: Optional[Annotated[list[Evidence], Field(max_length=MAX_LIST)]] = None
    evidence_dates: Optional[EvidenceDates] = None  # addition (issue 17 item 5): the date of each evidence item
    acts: Acts = Acts()
    circumstances: Annotated[list[Circumstance], Field(max_length=MAX_LIST)] = []
    software_days_in_production: Optional[Days] = None
    # Addition (issue 10, 000 §15 利益固有⑧): whether the accident was caused by a defect of the new or
    # revised software. Optional; absent = unknown, and the rules then ask for it when ⑧ could apply.
    software_defect_caused: Optional[StrictBool] = None
    # Addition (000 §8 イ④, §9 イ②, second limb): the insured recognised that the accident may breach a law
    # (法令などに抵触するおそれの認識), which brings regulatory-response costs into cover without a filing.
    # Optional; absent while such costs are claimed without a report, the rules ask for it.
    breach_of_law_recognised: Optional[StrictBool] = None
    closure_days: Optional[Days] = None
    reports: Optional[Annotated[list[Report], Field(max_length=MAX_LIST)]] = None


class LossLine(_Strict):
    category: LossCategory
    amount: Yen
    persons: Optional[Annotated[StrictInt, Field(ge=1, le=MAX_PERSONS)]] = None
    note: Optional[Text] = None


class PriorPayments(_Strict):
    liability: Yen = 0
    costs: Yen = 0
    brand_protect: Yen = 0
    lost_profit: Yen = 0


# 000 §18: payment within 30 days of the completed claim, later for one of these five reasons.
DelayReason = Literal["public_investigation", "expert_appraisal", "disaster_area", "abroad", "special_claim"]


class Payment(_Strict):
    """The handler's record of the claim's handling for its payment date (000 §18). An addition to the
    contract; the decision never reads it."""
    completed_on: Optional[Date] = None      # the day the claim was completed (請求手続完了日)
    delay_reason: Optional[DelayReason] = None
    paid_on: Optional[Date] = None


class Claim(_Strict):
    programme: Programme
    claim_id: Optional[ClaimId] = None
    policy: Policy
    incident: Incident
    losses: Annotated[list[LossLine], Field(max_length=MAX_LOSS_LINES)] = []
    prior_payments: Optional[PriorPayments] = None
    payment: Optional[Payment] = None
