"""A claim read against the plan catalogue: the contract's checks (contract/load.py) plus those only
the catalogue can answer (a plan of this programme, a facility where the programme has plans)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ..contract.claim import Claim
from ..contract.limits import MAX_INT, PERIOD_WINDOW_YEARS
from ..contract.load import validate_claim
from ..contract.text import quote
from .catalogue import Catalogue, Programme, load_catalogue, value

_DATES = [("policy", "enrolled_on"), ("policy", "retroactive_date"), ("incident", "occurred_on"),
          ("incident", "discovered_on"), ("incident", "claim_made_on")]


def _years(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year + years, day=28 if (day.month, day.day) == (2, 29) else day.day)


def _date_problems(claim: Claim, programme: Programme) -> list[tuple[str, str]]:
    """Dates within PERIOD_WINDOW_YEARS of the programme's period (an open-ended period: of its start)."""
    start = programme.period_start
    end = programme.period_end or start
    low, high = _years(start, -PERIOD_WINDOW_YEARS), _years(end, PERIOD_WINDOW_YEARS)
    problems = []
    for group, name in _DATES:
        day = getattr(getattr(claim, group), name)
        if day is not None and not low <= day <= high:
            problems.append((f"{group}.{name}", f"{day.isoformat()} is more than {PERIOD_WINDOW_YEARS} years from "
                                                f"{claim.programme}'s period ({start} .. {programme.period_end or 'open'}); "
                                                f"expected {low} .. {high}"))
    return problems


def _amount_problems(claim: Claim, programme: Programme) -> list[tuple[str, str]]:
    """Per-person caps times persons must stay representable (the cap is part of the decision)."""
    problems = []
    plan = claim.policy.plan if programme.plans else None
    for cov, treatments in programme.data.get("treatments", {}).items():
        for t in treatments:
            if t["step"] != "per_person_cap":
                continue
            try:
                limit, _ = programme.limit_source(plan, claim, t["of"])
            except (KeyError, TypeError):  # no such limit for this plan or facility: the waterfall says so
                continue
            per_person = (limit or 0) * value(t["percent"]) // 100
            for i, ln in enumerate(claim.losses):
                if ln.category in t["categories"] and ln.persons is not None and per_person * ln.persons > MAX_INT:
                    problems.append((f"losses[{i}].persons", f"{ln.persons:,} persons at {per_person:,} yen each "
                                                             f"is beyond {MAX_INT:,} yen"))
    return problems


def _plan_problems(claim: Claim, catalogue: Catalogue) -> list[tuple[str, str]]:
    problems = []
    programme = catalogue[claim.programme]
    plans = programme.plans
    if plans and claim.policy.facility is None:
        problems.append(("policy.facility", f"required for {claim.programme}: one of clinic, dental_clinic, "
                                            "hospital, care_facility"))
    if plans:
        if claim.policy.plan is None:
            problems.append(("policy.plan", f"required for {claim.programme}: one of {', '.join(plans)}"))
        elif claim.policy.plan not in plans:
            problems.append(("policy.plan", f"{quote(claim.policy.plan)} is not a plan of {claim.programme}; "
                                            f"expected one of {', '.join(plans)}"))
    elif claim.policy.plan is not None and claim.policy.plan.lower() != "none":
        problems.append(("policy.plan", f"{claim.programme} has no plans; leave policy.plan out (or write none)"))
    problems += _date_problems(claim, programme)
    if not problems:  # the amounts need a valid plan and facility
        problems += _amount_problems(claim, programme)
    return problems


def parse_claim(source: Any, catalogue: Catalogue | None = None) -> Claim:
    """Validate a claim from a path or a parsed dict; raise ClaimError naming every bad field."""
    catalogue = catalogue or load_catalogue()
    return validate_claim(source, lambda claim: _plan_problems(claim, catalogue))
