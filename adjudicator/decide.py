"""The claim's path through the engine: validate -> facts -> rules -> coverage -> waterfall -> decision."""
from __future__ import annotations

import json
import os
from typing import Any

import orjson

from . import coverage, facts, rete, waterfall
from .catalogue import Catalogue, load_catalogue
from .claim import Claim, PriorPayments
from .compile import compile_programme, referenced_fields
from .decision import Decision
from .load import parse_claim
from .rulebook import Rulebook, load_rulebook

ENGINE_VERSION = "0.1.0"


def run_rules(claim: Claim, book: Rulebook, catalogue: Catalogue) -> coverage.RuleOutcome:
    programme = catalogue[claim.programme]
    ruleset = rete.ruleset_for(compile_programme(book, programme))
    firings = ruleset.run(facts.claim_facts(claim, programme, referenced_fields(book, programme)))
    return coverage.resolve(book, programme, firings, len(claim.losses))


def decide(claim: Claim, book: Rulebook, catalogue: Catalogue, prior_note: dict | None = None,
           outcome: coverage.RuleOutcome | None = None) -> dict:
    """prior_note says where prior payments came from when not from the claim file (e.g. the ledger);
    outcome lets a caller (the benchmark) pass rule results it has already computed."""
    programme = catalogue[claim.programme]
    outcome = outcome or run_rules(claim, book, catalogue)
    prior = (claim.prior_payments or PriorPayments()).model_dump()
    covered = {c for c, st in outcome.coverages.items() if st.status == "covered"}
    mapped = [(ln.index, ln.coverage) for ln in outcome.lines if ln.coverage in covered]
    pay = waterfall.run(programme, claim, mapped, prior)

    coverages: dict[str, Any] = {}
    for cov, st in outcome.coverages.items():
        entry: dict[str, Any] = {"status": st.status, "payable": 0, "label": programme.coverages[cov]["label"],
                                 "reasons": st.reasons, "steps": []}
        if st.status == "covered":
            if "benefit" in programme.coverages[cov]:
                entry["payable"], entry["steps"] = waterfall.benefit(programme, cov, claim)
            else:
                entry["payable"] = sum(ln.amount for ln in pay.lines.values() if ln.coverage == cov)
                entry["steps"] = pay.coverage_steps[cov]
        coverages[cov] = entry

    lines = []
    for ln in outcome.lines:
        src = claim.losses[ln.index]
        out: dict[str, Any] = {"index": ln.index, "category": src.category, "claimed": src.amount,
                               "coverage": ln.coverage, "paid": 0}
        if ln.index in pay.lines:
            lp = pay.lines[ln.index]
            out.update(paid=lp.amount, steps=lp.steps, basis=ln.mapped_by)
        elif ln.coverage is not None:
            st = outcome.coverages[ln.coverage]
            out.update(steps=[{"step": "claimed", "after": src.amount},
                              {"step": "coverage_not_payable", "status": st.status, "before": src.amount,
                               "after": 0, "cut": src.amount, "clause": st.reasons[0]["clause"]}],
                       basis=ln.mapped_by, refused=st.reasons[0])
        else:
            out.update(steps=[{"step": "claimed", "after": src.amount},
                              {"step": "refused", "before": src.amount, "after": 0, "cut": src.amount,
                               "clause": ln.refused_by["clause"]}],
                       refused=ln.refused_by)
        lines.append(out)

    decision = {
        "claim_id": claim.claim_id,
        "programme": claim.programme,
        "plan": claim.policy.plan if programme.plans else None,
        "facility": claim.policy.facility,
        "coverages": coverages,
        "total_payable": sum(c["payable"] for c in coverages.values()),
        "needs_information": outcome.needs,
        "lines": lines,
        "limits_applied": pay.cuts,
        "prior_payments": {**(prior_note or {"source": "claim_file" if claim.prior_payments else "none"}),
                           **prior},
        "duties": outcome.duties,
        "notes": outcome.notes,
        "trace": outcome.trace,
        "rulebook": {"version": book.version, "sha256": book.sha256},
        "engine": {"version": ENGINE_VERSION},
    }
    Decision.model_validate(decision)  # the output contract, checked on every decision
    return decision


def adjudicate(claim: Any, rules: str | os.PathLike | None = None) -> dict:
    """Adjudicate a claim file path or parsed dict; return the decision dict (as the JSON output).

    Invalid input raises adjudicator.ClaimError, whose message names every bad field path.
    """
    catalogue = load_catalogue(rules)
    book = load_rulebook(rules)
    return decide(parse_claim(claim, catalogue), book, catalogue)


def to_json(decision: dict, pretty: bool = False) -> str:
    """Canonical JSON: the same decision gives the same bytes (compact uses the C encoder)."""
    if pretty:
        return json.dumps(decision, ensure_ascii=False, indent=2) + "\n"
    # orjson writes the same bytes as json.dumps(ensure_ascii=False, separators=(",", ":")), ~3x faster
    return orjson.dumps(decision).decode("utf-8") + "\n"
