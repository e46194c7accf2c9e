"""Premium quotes from the tabulated points of the plan catalogue (000 §10; 004 加入にあたって).

Only tabulated points are quoted; any other size is "ask the agent", as the pamphlets say.
Nagano mid-term premium = annual premium × remaining months / 12, rounded down to the yen.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..contract.limits import DATE_MAX, DATE_MIN
from .catalogue import Programme, value


@dataclass
class Quote:
    programme: str
    plan: str
    facility: str
    annual: int | None
    payable: int | None
    reference: str
    note: str
    cover_start: dt.date | None = None
    months: int | None = None


def quote(programme: Programme, plan: str, facility: str, general_beds: int | None = None,
          other_beds: int = 0, places: int | None = None, enrolled_on: dt.date | None = None) -> Quote:
    for field, count in (("general_beds", general_beds), ("other_beds", other_beds), ("places", places)):
        if count is not None and count < 0:
            raise ValueError(f"{field}: a count cannot be negative, got {count}")
    if enrolled_on is not None and not DATE_MIN <= enrolled_on <= DATE_MAX:
        raise ValueError(f"enrolled_on: {enrolled_on.isoformat()} is outside {DATE_MIN} .. {DATE_MAX}")
    if plan not in programme.plans:
        raise ValueError(f"plan: {plan!r} is not a plan of {programme.id}; expected one of {', '.join(programme.plans)}")
    table = programme.plans[plan].get("premiums", {}).get(facility)
    annual, ref = None, ""
    if table is not None:
        ref = table.get("reference", "")
        if "value" in table:
            annual = value(table)
        elif "general_beds" in table and other_beds == 0:
            annual = table["general_beds"].get(general_beds)
        elif "places" in table:
            annual = table["places"].get(places)
        elif "points" in table:
            annual = next((p["value"] for p in table["points"]
                           if p["general_beds"] == general_beds and p["other_beds"] == other_beds), None)
    if annual is None:
        return Quote(programme.id, plan, facility, None, None, ref or programme.data["label"]["ja"],
                     "not a tabulated point: ask the agent (取扱代理店までお問い合わせください)")
    start = programme.cover_start(enrolled_on)
    frac = programme.data.get("mid_term_enrolment", {}).get("premium_fraction")
    if enrolled_on is None or start == programme.period_start:
        return Quote(programme.id, plan, facility, annual, annual, ref, "annual premium", start, 12)
    if frac is None:
        return Quote(programme.id, plan, facility, annual, None, ref,
                     "mid-term premium is not stated in the pamphlet: ask the agent", start)
    end = programme.period_end
    months = (end.year * 12 + end.month) - (start.year * 12 + start.month)
    return Quote(programme.id, plan, facility, annual, annual * months // 12, f"{ref}; {frac['reference']}",
                 f"mid-term: annual × {months}/12, rounded down", start, months)
