"""Replay: re-adjudicate a recorded claim under the current rulebook and compare with the record."""
from __future__ import annotations

from ..decide import decide, to_json
from ..engine.rulebook import Rulebook
from ..policy.catalogue import Catalogue
from ..policy.claims import parse_claim
from .diff import compare, describe


def replay(rec, catalogue: Catalogue, book: Rulebook, with_decision: bool = False) -> dict:
    """{seq, claim_id, identical, rulebook (now), recorded_under, change, lines} for one ledger record;
    with_decision adds the decision made now (the desk lays it beside the recorded one line by line).

    The prior payments the record drew from the ledger are replayed as they were recorded (the
    record names them), so only a change of rulebook or engine shows."""
    stored_prior = rec.decision["prior_payments"]
    if rec.row.get("format", 1) >= 2 and "ledger" in stored_prior:
        # the claim as given, with what the ledger held for its policy then
        claim = parse_claim(rec.input, catalogue)
        now = decide(claim, book, catalogue, {"source": "ledger", "ledger": stored_prior["ledger"]})
    else:
        claim = parse_claim(rec.effective, catalogue)
        note = {k: v for k, v in stored_prior.items() if k in ("source", "records")}
        now = decide(claim, book, catalogue, note if note.get("source") == "ledger" else None)
    identical = to_json(now) == rec.row["decision_json"] + "\n"
    change = None if identical else compare(rec.decision, now)
    out = {"seq": rec.seq, "claim_id": rec.claim_id, "identical": identical,
           "rulebook": {"version": book.version, "sha256": book.sha256},
           "recorded_under": {"version": rec.row["rulebook_version"], "sha256": rec.row["rulebook_sha256"]},
           "change": change,
           "lines": [] if identical else (describe(change, "the record", "the current rulebook") or ["  (metadata only)"])}
    if with_decision:
        out["decision"] = now
    return out
