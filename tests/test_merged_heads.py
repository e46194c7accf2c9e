"""engine/why_not.py merged_head: the search builds a larger change's claim fact from what its single
changes gave alone. Checked on the corpus against the claim fact of the changed claim itself, for every
single change the search would try (facts.DERIVED_FROM names every claim-file field a changed property
comes from) and for every pair merged_head accepts."""
from __future__ import annotations

import itertools

import pytest

from adjudicator.contract.load import ClaimError
from adjudicator.engine import facts, why_not
from adjudicator.engine.facts import FIELDS, facts_fed_by
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.engine.run import MISSING, changed_properties
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim
from pydantic import ValidationError

BOOK, CAT = load_rulebook(), load_catalogue()


@pytest.fixture(scope="module")
def corpus():
    import sys
    from support import ROOT
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from corpus import make_corpus
    return [parse_claim(c, CAT) for c in make_corpus(90, seed=5)]


def head_of(claim):
    programme = CAT[claim.programme]
    return facts.claim_fact(claim, programme, BOOK.compiled[programme.id].fields)


def keys_of(paths: frozenset) -> set:
    return {"plan_kind" if p == "plan_kind" else FIELDS[p].key for p in paths}


def owned(prop: str, keys: set) -> bool:
    return prop in keys or any(prop.startswith(k + "__") for k in keys)


def singles_of(claim):
    programme = CAT[claim.programme]
    data = claim.model_dump(mode="python", exclude_none=True)
    paths = why_not.claim_paths(BOOK, programme, [r.id for r in BOOK.for_programme(programme.id)])
    base = head_of(claim)
    out = {}
    for change in why_not.candidates(claim, data, programme, paths):
        try:
            changed = parse_claim(why_not.apply(data, (change,)), CAT)
        except (ClaimError, ValidationError):
            continue
        head = head_of(changed)
        out[change] = {k: head.get(k, MISSING) for k in changed_properties(head, base)}
    return data, base, out


def test_a_single_change_changes_only_the_properties_its_field_feeds(corpus):
    checked = 0
    for claim in corpus:
        data, _, deltas = singles_of(claim)
        for change, delta in deltas.items():
            parent = change.field.rpartition(".")[0]
            if parent and not isinstance(why_not._get(data, parent), dict):
                continue   # creates a part of the claim file: merged_head never uses it
            keys = keys_of(facts_fed_by(change.field))
            assert all(owned(p, keys) for p in delta), (change, sorted(delta))
            checked += 1
    assert checked > 2000


def test_merged_pairs_are_the_changed_claims_own_facts(corpus):
    merged = refused = declined = 0
    for claim in corpus[:60]:
        data, base, deltas = singles_of(claim)
        for a, b in itertools.combinations(list(deltas)[:40], 2):
            if a.field == b.field:
                continue
            head = why_not.merged_head(base, deltas, data, (a, b))
            if head is None:
                declined += 1
                continue
            try:
                changed = parse_claim(why_not.apply(data, (a, b)), CAT)
            except (ClaimError, ValidationError):
                refused += 1   # the search sends a refused pair through the gate before it could count
                continue
            assert head == head_of(changed), (a, b)
            merged += 1
    assert merged > 5000 and declined > 100


def test_a_pair_feeding_one_derived_fact_is_not_merged():
    """An evidence item added and its date given feed incident.evidence_in_period together: neither alone
    moves it the way both do, so the pair is run as itself."""
    assert facts_fed_by("incident.evidence") & facts_fed_by("incident.evidence_dates.insurer_notified")
    assert facts_fed_by("policy.enrolled_on") >= {"cover.start", "incident.evidence_in_period"}
    assert facts_fed_by("policy.plan") == {"policy.plan", "plan_kind"}
    assert not facts_fed_by("incident.attack.status") & facts_fed_by("incident.acts.intentional")
    change = why_not.Change
    a, b = change("incident.evidence", "add", "insurer_notified"), change("incident.evidence_dates.insurer_notified", "set", None)
    deltas = {a: {"x": 1}, b: {"y": 2}}
    assert why_not.merged_head({"id": "claim"}, deltas, {"incident": {}}, (a, b)) is None
    c = change("incident.acts.intentional", "set", "named_insured")
    d = change("incident.attack.status", "set", "suspected")
    deltas = {c: {"p": 1}, d: {"q": MISSING}}
    data = {"incident": {"acts": {}, "attack": {}}}
    assert why_not.merged_head({"id": "claim", "q": 5}, deltas, data, (c, d)) == {"id": "claim", "p": 1}
    assert why_not.merged_head({"id": "claim"}, {c: {"p": 1}, d: {"p": 2}}, data, (c, d)) is None   # one property
    assert why_not.merged_head({"id": "claim"}, deltas, {"incident": {"acts": {}}}, (c, d)) is None  # attack absent
    assert why_not.merged_head({"id": "claim"}, {c: {"p": 1}}, data, (c, d)) is None                 # d refused alone


def test_a_conflict_with_any_earlier_change_of_the_combo_refuses_the_merge_not_only_with_the_last():
    """merged_head accumulates what the changes before feed and change: with three changes, the third
    conflicting with the first (not the second) is refused as well (the search's pairs never show it)."""
    Change = why_not.Change
    ev, ev_in, cause = (Change("incident.evidence", "add", "x"), Change("incident.evidence_in_period", "set", True),
                        Change("incident.cause", "set", "unknown"))
    assert facts_fed_by(ev.field) & facts_fed_by(ev_in.field)
    assert not facts_fed_by(ev.field) & facts_fed_by(cause.field) and not facts_fed_by(cause.field) & facts_fed_by(ev_in.field)
    data, base = {"incident": {}}, {"id": "claim", "a": 1, "b": 2, "c": 3}
    deltas = {ev: {"a": 10}, ev_in: {"c": 30}, cause: {"b": MISSING}}
    assert why_not.merged_head(base, deltas, data, (ev, cause)) == {"id": "claim", "a": 10, "c": 3}
    assert why_not.merged_head(base, deltas, data, (ev, cause, ev_in)) is None    # feeds what the first feeds
    other = Change("incident.discovered_by", "set", "staff")
    assert not facts_fed_by(other.field) & (facts_fed_by(ev.field) | facts_fed_by(cause.field))
    assert why_not.merged_head(base, deltas | {other: {"a": 11}}, data, (ev, cause, other)) is None  # changes what the first changed
    assert why_not.merged_head(base, deltas | {other: {"d": 4}}, data, (ev, cause, other)) == \
        {"id": "claim", "a": 10, "c": 3, "d": 4}
