"""The payout waterfall: covered loss lines to whole yen, step by step.

Order (each step recorded on every line it touches, with before/after/cut and its clause):
  claimed
  -> the coverage's treatments, in the order the plan data lists them
     (per-person cap, sublimit with its deductible, co-insurance, per-accident deductible)
  -> each limit pool: per claim/accident limit, then what is left of the aggregate after prior payments
  -> each combined cap (e.g. ① + ② <= ①), in the pool order the plan data gives.
When a shared cap binds, lines are paid in the allocation order of the plan data (coverage order,
then the order of the lines in the claim file) and later lines are cut; a deductible is taken from
the lines in the same order. Percentages round down to the yen. Only ints; never floats.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..contract.claim import Claim
from ..policy.catalogue import Programme, value


@dataclass
class LinePay:
    index: int
    category: str
    claimed: int
    persons: int | None
    coverage: str
    amount: int = 0
    steps: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.amount = self.claimed
        self.steps.append({"step": "claimed", "after": self.claimed})

    def set(self, step: str, new: int, clause: str, **detail) -> None:
        """Record one step on this line. (Labels stay on the coverage-level steps: documents name
        line steps from the message catalogue, so the decision does not repeat them per line.)"""
        assert isinstance(new, int) and 0 <= new <= self.amount, (step, new, self.amount)
        entry = {"step": step, "before": self.amount, "after": new, "cut": self.amount - new, "clause": clause}
        entry.update(detail)
        self.steps.append(entry)
        self.amount = new


def percent_of(amount: int, percent: int) -> int:
    """Integer percentage, rounded down (the seeds' rule for fractions of a yen)."""
    return amount * percent // 100


def _allocate(lines: list[LinePay], cap: int, step: str, clause: str, label: dict | None, **detail) -> dict:
    """Pay lines in order until `cap` is used up; later lines are cut. Returns a summary step."""
    cap = max(cap, 0)
    before = sum(ln.amount for ln in lines)
    remaining = cap
    for ln in lines:
        pay = min(ln.amount, remaining)
        ln.set(step, pay, clause, cap=cap, **detail)
        remaining -= pay
    after = sum(ln.amount for ln in lines)
    return {"step": step, "cap": cap, "before": before, "after": after, "cut": before - after,
            "clause": clause, **({"label": label} if label else {}), **detail}


def _deduct(lines: list[LinePay], deductible: int, step: str, clause: str, label: dict | None) -> dict:
    before = sum(ln.amount for ln in lines)
    remaining = deductible
    for ln in lines:
        take = min(ln.amount, remaining)
        ln.set(step, ln.amount - take, clause, deductible=deductible)
        remaining -= take
    after = sum(ln.amount for ln in lines)
    return {"step": step, "deductible": deductible, "before": before, "after": after, "cut": before - after,
            "clause": clause, **({"label": label} if label else {})}


@dataclass
class Payout:
    lines: dict[int, LinePay]
    coverage_steps: dict[str, list[dict]]
    cuts: list[dict]  # what each shared cap cut, for the explanation


def _claim_value(claim: Claim, path: str) -> object:
    obj: object = claim
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _joined_categories(treatment: dict, claim: Claim) -> set[str]:
    """Categories that join a sublimit when the claim says so (plan data: `join`, each with `when`:
    claim paths and the values they must all have; an absent fact never matches)."""
    out: set[str] = set()
    for extra in treatment.get("join", []):
        if all(_claim_value(claim, path) == want for path, want in extra["when"].items()):
            out |= set(extra["categories"])
    return out


def _treat(programme: Programme, plan: str | None, claim: Claim, cov: str, lines: list[LinePay]) -> list[dict]:
    summary = []
    for t in programme.data.get("treatments", {}).get(cov, []):
        kind = t["step"]
        ref = t.get("reference", "")
        label = t.get("label")
        if kind == "per_person_cap":
            pct = value(t["percent"])
            limit, _ = programme.limit_source(plan, claim, t["of"])
            per_person = percent_of(limit, pct)
            for ln in lines:
                if ln.category in t["categories"]:
                    if ln.persons is None:  # the rules ask for it; never guess a head count
                        raise ValueError(f"losses[{ln.index}].persons is needed for {kind}")
                    cap = per_person * ln.persons
                    ln.set(kind, min(ln.amount, cap), ref, per_person=per_person, persons=ln.persons, cap=cap)
        elif kind == "sublimit":
            cats = set(t["categories"]) | _joined_categories(t, claim)
            group = [ln for ln in lines if ln.category in cats]
            if group:
                ded = value(t["deductible"]) if "deductible" in t else 0
                if ded:
                    s = _deduct(group, ded, "sublimit_deductible", t["deductible"].get("reference", ref), label)
                    summary.append(s)
                summary.append(_allocate(group, value(t["cap"]), "sublimit", t["cap"].get("reference", ref), label))
        elif kind == "coinsurance":
            pct = value(t["percent"])
            before = sum(ln.amount for ln in lines)
            for ln in lines:
                ln.set(kind, percent_of(ln.amount, pct), ref, percent=pct)
            after = sum(ln.amount for ln in lines)
            summary.append({"step": kind, "percent": pct, "before": before, "after": after, "cut": before - after,
                            "clause": ref, **({"label": label} if label else {})})
        elif kind == "deductible":
            summary.append(_deduct(lines, value(t["amount"]), kind, ref, label))
        else:
            raise ValueError(f"{programme.id}: unknown treatment step {kind!r}")
    return summary


def run(programme: Programme, claim: Claim, mapped: list[tuple[int, str]], prior: dict[str, int]) -> Payout:
    """mapped: (line index, coverage) for each line whose coverage is covered."""
    plan = claim.policy.plan
    lines = {i: LinePay(i, claim.losses[i].category, claim.losses[i].amount, claim.losses[i].persons, cov)
             for i, cov in mapped}
    by_cov: dict[str, list[LinePay]] = {}
    for ln in lines.values():
        by_cov.setdefault(ln.coverage, []).append(ln)
    steps: dict[str, list[dict]] = {c: [] for c in programme.coverage_ids}
    cuts: list[dict] = []

    for cov in programme.coverage_ids:
        if by_cov.get(cov):
            steps[cov] += _treat(programme, plan, claim, cov, by_cov[cov])

    def pool_lines(pool_id: str) -> list[LinePay]:
        pool = programme.data["pools"][pool_id]
        return [ln for cov in pool["allocation_order"] for ln in by_cov.get(cov, [])]

    for pool_id, pool in programme.data.get("pools", {}).items():
        plines = pool_lines(pool_id)
        if not plines:
            continue
        limit, ref = programme.limit_source(plan, claim, pool["limit"])
        limit = limit or 0
        label = pool.get("label")
        if pool.get("per_claim"):
            s = _allocate(plines, limit, "per_claim_limit", pool.get("reference", ref), label, pool=pool_id)
            cuts.append(s)
        if pool.get("aggregate"):
            used = sum(prior.get(k, 0) for k in pool["prior_payments"])
            s = _allocate(plines, limit - used, "aggregate_remaining", pool.get("reference", ref), label,
                          pool=pool_id, limit=limit, prior_payments=used)
            cuts.append(s)

    for cap in programme.data.get("combined_caps", []):
        clines = [ln for pool_id in cap["allocation_order"] for ln in pool_lines(pool_id)]
        if not clines:
            continue
        limit, _ = programme.limit_source(plan, claim, cap["limit"])
        used = sum(prior.get(k, 0) for k in cap["prior_payments"])
        s = _allocate(clines, limit - used, "combined_cap", cap["reference"], cap.get("label"),
                      cap_id=cap["id"], limit=limit, prior_payments=used)
        cuts.append(s)

    # per-coverage summary of the limit steps, for the explanation
    for cov, covlines in by_cov.items():
        for st in ("per_claim_limit", "aggregate_remaining", "combined_cap"):
            entries = [x for ln in covlines for x in ln.steps if x["step"] == st]
            if entries:
                before, after = sum(x["before"] for x in entries), sum(x["after"] for x in entries)
                steps[cov].append({"step": st, "before": before, "after": after, "cut": before - after,
                                   "clause": entries[0]["clause"]})
    return Payout(lines, steps, [c for c in cuts if c["cut"] > 0])


def benefit(programme: Programme, cov: str, claim: Claim) -> tuple[int, list[dict]]:
    """Fixed support payments (jma-support): amount and steps, from the plan data's bands."""
    spec = programme.data["benefits"][programme.coverages[cov]["benefit"]]
    if spec["kind"] == "fixed":
        amt = value(spec["amount"])
        return amt, [{"step": "fixed_amount", "after": amt, "clause": spec["amount"]["reference"],
                      "label": spec.get("label")}]
    if spec["kind"] == "base_plus_closure":
        when = claim.incident.occurred_on
        band = next((b for b in spec["bands"] if _in_band(when, b)), None)
        if band is None:
            return 0, [{"step": "no_band", "after": 0, "clause": spec["bands"][-1]["reference"]}]
        base = value(band["base"])
        days = claim.incident.closure_days or 0
        steps = [{"step": "attack_payment", "after": base, "clause": band["base"]["reference"]}]
        if days >= 1 and "closure_per_day" in band:
            extra = min(days * value(band["closure_per_day"]), value(band["closure_max"]))
            steps.append({"step": "closure_payment", "days": days, "per_day": value(band["closure_per_day"]),
                          "max": value(band["closure_max"]), "amount": extra, "after": base + extra,
                          "clause": band["closure_per_day"]["reference"]})
        elif days >= 1 and "closure_flat" in band:
            extra = value(band["closure_flat"])
            steps.append({"step": "closure_payment_flat", "days": days, "amount": extra, "after": base + extra,
                          "clause": band["closure_flat"]["reference"], "reading": band.get("reading")})
        else:
            extra = 0
        return base + extra, steps
    raise ValueError(f"{programme.id}: unknown benefit kind {spec['kind']!r}")


def _in_band(when: dt.date, band: dict) -> bool:
    start = band["from"]
    end = band.get("to")
    return when >= start and (end is None or when <= end)
