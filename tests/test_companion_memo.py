"""engine/why_not.py: what a fixed-benefit programme printed with the claim's own (the JMA support beside a
Fukuoka claim) answers is kept per incident, so claims of one incident share it: the same entries, copies
of their own, a bounded memo, and never in the reference path."""
from __future__ import annotations

from adjudicator.decide import decide
from adjudicator.engine import why_not
from adjudicator.engine.examples import load_bases, merge
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

BOOK, CAT = load_rulebook(), load_catalogue()
BASE = merge(load_bases()["fukuoka-cyber-2025"], {"policy": {"plan": "S3", "policy_number": "FK-MEMO"}})


def claim(claim_id: str | None = "M-1", **incident):
    data = merge(BASE, {"incident": incident} if incident else {})
    if claim_id is None:
        data.pop("claim_id", None)
    else:
        data["claim_id"] = claim_id
    return parse_claim(data, CAT)


def jma(decision: dict) -> list[dict]:
    return [e for e in decision["unclaimed_benefits"] if e["programme"] == "jma-support"]


class Counting:
    def __init__(self, monkeypatch):
        self.computed = 0
        real = why_not._other_programme

        def counted(*args, **kwargs):
            self.computed += 1
            return real(*args, **kwargs)
        monkeypatch.setattr(why_not, "_other_programme", counted)


def test_claims_of_one_incident_share_the_companion_answer(monkeypatch):
    why_not._memo.clear()
    counting = Counting(monkeypatch)
    first = decide(claim("M-1"), BOOK, CAT)
    second = decide(claim("M-2"), BOOK, CAT)
    assert counting.computed == 1
    assert jma(first) == jma(second) != []
    entry = next(e for e in jma(first) if e["coverage"] == "cyber_support")
    assert entry["status"] == "not_covered"
    assert [n["change"]["value"] for n in entry["needs"] if n["kind"] == "report"] == ["mhlw"]
    # the same as computed afresh
    assert jma(decide(claim("M-3"), BOOK, CAT, reference=True)) == jma(first)
    assert counting.computed == 2                    # the reference path computed it again


def test_another_incident_or_a_claim_without_an_id_is_answered_on_its_own(monkeypatch):
    why_not._memo.clear()
    counting = Counting(monkeypatch)
    before = decide(claim("M-1"), BOOK, CAT)
    reported = decide(claim("M-1", reports=["mhlw"]), BOOK, CAT)
    assert counting.computed == 2
    assert jma(reported) != jma(before)
    assert next(e for e in jma(reported) if e["coverage"] == "cyber_support")["status"] == "needs_information"
    decide(claim(None), BOOK, CAT)
    assert counting.computed == 3                    # whether there is a claim id is part of the key


def test_each_decision_gets_its_own_copy(monkeypatch):
    why_not._memo.clear()
    first = decide(claim("M-1"), BOOK, CAT)
    jma(first)[0]["needs"].clear()
    jma(first)[0]["label"] = "changed"
    second = decide(claim("M-2"), BOOK, CAT)
    assert jma(second)[0]["needs"] and jma(second)[0]["label"] != "changed"


def test_the_memo_keeps_the_last_incidents_only(monkeypatch):
    why_not._memo.clear()
    monkeypatch.setattr(why_not, "_MEMO_SIZE", 2)
    counting = Counting(monkeypatch)
    for days in (1, 2, 3):
        decide(claim("M-1", closure_days=days), BOOK, CAT)
    assert len(why_not._memo) == 2 and counting.computed == 3
    decide(claim("M-1", closure_days=3), BOOK, CAT)   # kept
    assert counting.computed == 3
    decide(claim("M-1", closure_days=1), BOOK, CAT)   # dropped: the oldest
    assert counting.computed == 4
