"""The pipeline: contract (a valid claim) -> engine (rules, coverage) -> payout (yen) -> the decision."""
from __future__ import annotations

import json
import os
from typing import Any

import orjson

from .contract.claim import Claim, PriorPayments
from .engine import coverage
from .engine.rulebook import Rulebook, load_rulebook
from .engine.run import run_rules
from .engine import why_not
from .payout import waterfall
from .policy.catalogue import Catalogue, load_catalogue
from .policy.claims import parse_claim

ENGINE_VERSION = "0.1.0"


def decide(claim: Claim, book: Rulebook, catalogue: Catalogue, prior_note: dict | None = None,
           outcome: coverage.RuleOutcome | None = None, reference: bool = False, explain: bool = True) -> dict:
    """prior_note says where prior payments came from when not from the claim file (e.g. the ledger);
    outcome lets a caller (the benchmark) pass rule results it has already computed; explain=False
    leaves out unclaimed_benefits and why_not (the why-not search re-adjudicates its suggestions so).

    reference=True is the slow reference path the tests compare the fast one against, byte for byte
    (tests/test_perf_identity.py, over the benchmark corpus): a fresh engine state for the claim and
    the decision checked against the output contract (Decision). The fast path skips that check."""
    programme = catalogue[claim.programme]
    given_note = prior_note
    outcome = outcome or run_rules(claim, book, programme, reference=reference)
    prior, prior_note = prior_payments(claim, prior_note)
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
    if explain:
        _explain(decision, claim, book, catalogue, outcome, given_note, reference)
    if reference:
        from .contract.decision import Decision  # imported here: the fast path (the CLI) never needs it
        Decision.model_validate(decision)  # the output contract (the tests check it on the whole corpus)
    return decision


def _explain(decision: dict, claim: Claim, book: Rulebook, catalogue: Catalogue, outcome: coverage.RuleOutcome,
             prior_note: dict | None, reference: bool = False) -> None:
    """Issue 20: benefits the facts reach that no line claims, and why-not on whatever is refused or cut
    (searched only where something is; each suggestion re-adjudicated here)."""
    def amount(programme, cov: str, other: Claim) -> int | None:
        return waterfall.benefit(programme, cov, other)[0] if "benefit" in programme.coverages[cov] else None

    def validate(data: dict) -> Claim:
        return parse_claim(data, catalogue)

    unclaimed = why_not.unclaimed(claim, book, catalogue, outcome, amount, validate, reference)
    by_cov, by_line = why_not.why_not(claim, book, catalogue[claim.programme], outcome, decision,
                                      lambda changed: decide(changed, book, catalogue, prior_note, explain=False,
                                                             reference=reference),
                                      validate, reference)
    for cov, entry in by_cov.items():
        decision["coverages"][cov]["why_not"] = entry
    for index, entry in by_line.items():
        decision["lines"][index]["why_not"] = entry
    keys = list(decision)
    at = keys.index("needs_information") + 1
    items = list(decision.items())
    decision.clear()
    decision.update(items[:at] + [("unclaimed_benefits", unclaimed)] + items[at:])


def prior_payments(claim: Claim, note: dict | None) -> tuple[dict[str, int], dict | None]:
    """The prior payments a decision uses, and the note that says where they came from.

    With a ledger (note {"source": "ledger", "ledger": {key: yen}}) the ledger's payments on the policy
    and period always count; a claim file's prior_payments only add what the ledger does not know:
    per key the larger of the two (choice: a claim file states all that was paid, the ledger's part
    included, so it can raise a figure but never lower what the ledger holds). The note then shows both
    sources. Without a ledger, the claim file's figures (or none) are used as given."""
    given = claim.prior_payments.model_dump() if claim.prior_payments is not None else None
    if note is None or "ledger" not in note:
        return given or PriorPayments().model_dump(), note
    ledger = note["ledger"]
    used = {k: max(int(ledger.get(k, 0)), (given or {}).get(k, 0)) for k in PriorPayments.model_fields}
    return used, {**note, "claim_file": given}


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
