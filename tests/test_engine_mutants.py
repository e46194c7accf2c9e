"""Pins found by mutation testing (mutmut) of the engine: engine/coverage.py (statuses, resolve and their
precedence and line choice), engine/run.py (StatusRuns) and engine/rete.py (the durable_rules adapter).

Firings are built by hand on the real rulebook's rules where a test needs a combination no claim gives
(two rules of opposite effect on one coverage, two map rules on one line in reverse rulebook order); the
engine's own firings on real claims elsewhere."""
from __future__ import annotations

import copy

import pytest

from adjudicator.engine import coverage, rete
from adjudicator.engine.rete import Firing
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.engine.run import StatusRuns, run_rules
from adjudicator.policy.catalogue import load_catalogue

BOOK = load_rulebook()
CAT = load_catalogue()
FK = CAT["fukuoka-cyber-2025"]

# one rule of each status effect on the coverage incident_response (fukuoka-cyber-2025)
EXCLUDE, NOT_COVER, NEED, COVER = ("FK-EXC-COMMON-1-INTENT", "FK-PERIOD-DISCOVERED-BEFORE-START",
                                   "FK-INVESTIGATION-STATUS-NEEDED", "FK-TRIG-ALL-RISK")
# map rules in rulebook order: FK-MAP-INCIDENT-RESPONSE (39) before FK-MAP-INVESTIGATION-SUSPECTED (41)
MAP_IR, MAP_CAR = "FK-MAP-INCIDENT-RESPONSE", "FK-MAP-INVESTIGATION-SUSPECTED"
REFUSE_FINES, REFUSE_OTHER = "FK-REFUSE-FINES", "FK-REFUSE-OTHER"   # rulebook order 50, 52


def claim_firing(rule: str) -> Firing:
    return Firing(rule, {"c": {"id": "claim", "plan_kind": "A"}})


def line_firing(rule: str, index: int, category: str = "forensic_investigation") -> Firing:
    return Firing(rule, {"l": {"id": f"line{index}", "line__index": index, "line__category": category}})


def both(firings: list[Firing], n_lines: int = 0):
    return (coverage.statuses(BOOK, FK, firings, n_lines), coverage.resolve(BOOK, FK, firings, n_lines))


# ------------------------------------------------------------------------------- coverage.py
def test_no_firing_leaves_every_coverage_not_covered_with_no_effects():
    for out in both([]):
        assert list(out.coverages) == FK.coverage_ids
        assert {c: (s.status, s.effects) for c, s in out.coverages.items()} == \
            {c: ("not_covered", {}) for c in FK.coverage_ids}
        assert out.lines == []


@pytest.mark.parametrize("present,status", [
    ((EXCLUDE, NOT_COVER, NEED, COVER), "excluded"),
    ((NOT_COVER, NEED, COVER), "not_covered"),
    ((NEED, COVER), "needs_information"),
    ((COVER,), "covered"),
    ((COVER, EXCLUDE), "excluded"),
    ((COVER, NOT_COVER), "not_covered"),
    ((COVER, NEED), "needs_information"),
    ((NEED, EXCLUDE), "excluded"),
    ((NEED, NOT_COVER), "not_covered"),
    ((NOT_COVER, EXCLUDE), "excluded"),
    ((NEED,), "needs_information"),
])
def test_the_strongest_effect_decides_exclude_over_not_cover_over_need_over_cover(present, status):
    firings = [claim_firing(r) for r in present]
    lean, full = both(firings)
    kinds = {EXCLUDE: "exclude", NOT_COVER: "not_cover", NEED: "need", COVER: "cover"}
    assert lean.coverages["incident_response"].status == status
    assert full.coverages["incident_response"].status == status
    assert lean.coverages["incident_response"].effects == {kinds[r]: [{"rule": r}] for r in present}
    # resolve's reasons are the deciding effect's rules, with their texts
    strongest = next(r for r in present if kinds[r] == {"excluded": "exclude", "not_covered": "not_cover",
                                                         "needs_information": "need", "covered": "cover"}[status])
    rule = BOOK.rules_by_id[strongest]
    expected = [{"rule": strongest, "clause": rule.clause, "text": rule.text.ja, "text_en": rule.text.en,
                 "effect": kinds[strongest]}]
    if status == "covered":   # no loss line under it
        msg = BOOK.messages["no_loss_claimed"]
        expected.append({"rule": None, "clause": FK.coverages["incident_response"]["reference"],
                         "text": msg["ja"], "text_en": msg["en"], "effect": "no_loss_claimed"})
    assert full.coverages["incident_response"].reasons == expected


def test_a_status_rule_adds_its_effect_to_each_of_its_targets_only():
    lean, full = both([claim_firing(NEED)])   # incident_response and cyber_attack_response
    for out in (lean, full):
        assert {c: s.status for c, s in out.coverages.items()} == {
            c: ("needs_information" if c in ("incident_response", "cyber_attack_response") else "not_covered")
            for c in FK.coverage_ids}
    assert lean.coverages["cyber_attack_response"].effects == {"need": [{"rule": NEED}]}
    assert full.coverages["cyber_attack_response"].effects["need"][0]["rule"] == NEED


def test_several_rules_of_one_effect_are_all_kept_in_firing_order():
    lean, full = both([claim_firing("FK-EXC-COMMON-2-CRIME"), claim_firing(EXCLUDE)])
    assert lean.coverages["liability"].effects == {"exclude": [{"rule": "FK-EXC-COMMON-2-CRIME"}, {"rule": EXCLUDE}]}
    assert [r["rule"] for r in full.coverages["liability"].reasons] == ["FK-EXC-COMMON-2-CRIME", EXCLUDE]


def test_line_effects_do_not_touch_coverage_statuses():
    lean, full = both([line_firing(MAP_IR, 0), line_firing(REFUSE_FINES, 1)], n_lines=2)
    for out in (lean, full):
        assert all(s.effects == {} and s.status == "not_covered" for s in out.coverages.values())


@pytest.mark.parametrize("order", [(MAP_IR, MAP_CAR), (MAP_CAR, MAP_IR)])
def test_of_two_map_rules_on_one_line_the_first_in_rulebook_order_maps_it(order):
    firings = [line_firing(order[0], 0), line_firing(order[1], 0)]
    lean, full = both(firings, n_lines=1)
    assert [ln.coverage for ln in lean.lines] == ["incident_response"]
    assert [ln.coverage for ln in full.lines] == ["incident_response"]
    rule = BOOK.rules_by_id[MAP_IR]
    assert full.lines[0].mapped_by == {"rule": MAP_IR, "clause": rule.clause, "text": rule.text.ja, "text_en": rule.text.en}
    assert full.lines[0].refused_by is None


def test_of_three_map_rules_on_one_line_the_first_in_rulebook_order_maps_it():
    firings = [line_firing(r, 0) for r in ("FK-MAP-CONTINUITY", MAP_CAR, "FK-MAP-LEAK-RESPONSE")]
    lean, full = both(firings, n_lines=1)
    assert lean.lines[0].coverage == full.lines[0].coverage == "cyber_attack_response"


@pytest.mark.parametrize("order", [(REFUSE_FINES, REFUSE_OTHER), (REFUSE_OTHER, REFUSE_FINES)])
def test_of_two_refusals_of_one_line_the_first_in_rulebook_order_is_the_reason(order):
    _, full = both([line_firing(order[0], 0), line_firing(order[1], 0)], n_lines=1)
    rule = BOOK.rules_by_id[REFUSE_FINES]
    assert full.lines[0].coverage is None and full.lines[0].mapped_by is None
    assert full.lines[0].refused_by == {"rule": REFUSE_FINES, "clause": rule.clause, "text": rule.text.ja,
                                        "text_en": rule.text.en}


def test_a_map_rule_wins_over_a_refusal_and_each_line_keeps_its_own_mapping():
    firings = [line_firing(REFUSE_FINES, 0), line_firing(MAP_IR, 0), line_firing(MAP_CAR, 2), line_firing(REFUSE_OTHER, 1)]
    lean, full = both(firings, n_lines=4)
    assert [ln.index for ln in lean.lines] == [0, 1, 2, 3]
    assert [ln.coverage for ln in lean.lines] == [ln.coverage for ln in full.lines] == \
        ["incident_response", None, "cyber_attack_response", None]
    assert [ln.refused_by["rule"] if ln.refused_by else "-" for ln in full.lines] == ["-", REFUSE_OTHER, "-", None]
    msg = BOOK.messages["line_unmapped"]
    assert full.lines[3].refused_by == {"rule": None, "clause": "claim-file contract: losses", "text": msg["ja"],
                                        "text_en": msg["en"]}


def test_statuses_carries_no_evidence():
    lean = coverage.statuses(BOOK, FK, [claim_firing(NEED), line_firing(MAP_IR, 0)], 1)
    assert (lean.needs, lean.duties, lean.notes, lean.trace) == ([], [], [], [])
    assert all(s.reasons == [] for s in lean.coverages.values())
    assert (lean.lines[0].mapped_by, lean.lines[0].refused_by) == (None, None)


# ------------------------------------------------------------------------------- run.py StatusRuns
from adjudicator.engine.examples import load_bases, merge  # noqa: E402
from adjudicator.policy.claims import parse_claim  # noqa: E402

FK_BASE = load_bases()["fukuoka-cyber-2025"]
S3 = {}                                                               # plan S3 (all_risk), attack confirmed
P3 = {"policy": {"plan": "P3"}}                                       # leak_only plan: line rules differ
SUSPECTED = {"incident": {"attack": {"status": "suspected"}}}         # a claim property line rules read
SELF_FOUND = {"incident": {"attack": {"status": "suspected"}, "discovered_by": "self"}}  # only claim rules read it
INTENT = {"incident": {"acts": {"intentional": "named_insured"}}}
NO_LINES = {"losses": []}
# what a full run gives on each (statuses of the seven coverages, then each line's coverage)
EXPECTED = {
    "S3": ({"liability": "covered", "incident_response": "covered", "cyber_attack_response": "not_covered",
            "leak_response": "covered", "regulatory_response": "covered", "lost_profit": "not_covered",
            "continuity_costs": "not_covered"}, ["liability", "incident_response", "leak_response"]),
    "P3": ({"liability": "covered", "incident_response": "not_covered", "cyber_attack_response": "not_covered",
            "leak_response": "covered", "regulatory_response": "covered", "lost_profit": "not_covered",
            "continuity_costs": "not_covered"}, ["liability", "leak_response", "leak_response"]),
    "SUSPECTED": ({"liability": "covered", "incident_response": "covered", "cyber_attack_response": "covered",
                   "leak_response": "covered", "regulatory_response": "covered", "lost_profit": "not_covered",
                   "continuity_costs": "not_covered"}, ["liability", "cyber_attack_response", "leak_response"]),
    "SELF_FOUND": ({"liability": "covered", "incident_response": "covered", "cyber_attack_response": "not_covered",
                    "leak_response": "covered", "regulatory_response": "covered", "lost_profit": "not_covered",
                    "continuity_costs": "not_covered"}, ["liability", "cyber_attack_response", "leak_response"]),
    "INTENT": ({c: "excluded" for c in FK.coverage_ids}, ["liability", "incident_response", "leak_response"]),
    "NO_LINES": ({"liability": "covered", "incident_response": "covered", "cyber_attack_response": "not_covered",
                  "leak_response": "covered", "regulatory_response": "covered", "lost_profit": "not_covered",
                  "continuity_costs": "not_covered"}, []),
}
PATCHES = {"S3": S3, "P3": P3, "SUSPECTED": SUSPECTED, "SELF_FOUND": SELF_FOUND, "INTENT": INTENT, "NO_LINES": NO_LINES}
CAR_RULES = {"S3": {"not_cover": ["FK-CAR-CONFIRMED"]}, "SUSPECTED": {"cover": ["FK-CAR-TRIGGER"]},
             "SELF_FOUND": {"not_cover": ["FK-CAR-OTHER-CHANNEL"]}, "P3": {"not_cover": ["FK-LEAK-ONLY-SCOPE"]}}


def fk_claim(name: str):
    return parse_claim(merge(FK_BASE, PATCHES[name]), CAT)


def shape(outcome) -> tuple:
    return ({c: s.status for c, s in outcome.coverages.items()}, [ln.coverage for ln in outcome.lines])


def with_a_join(book):
    """The rulebook with one more rule in the fukuoka ruleset that joins two facts (it never fires: no fact
    has these types), so rete.Ruleset.joins holds and StatusRuns runs all facts together."""
    import dataclasses
    compiled = book.compiled[FK.id]
    definition = dict(compiled.definition, **{"ZZ-JOIN": {"all": [{"a": {"t": "never_a"}}, {"b": {"t": "never_b"}}]}})
    return book.model_copy(update={"compiled": dict(book.compiled, **{FK.id: dataclasses.replace(compiled, definition=definition)})})


BOOK_JOINED = with_a_join(BOOK)


def test_the_joined_test_rulebook_has_a_join_and_the_real_one_none():
    assert rete.ruleset_for(BOOK_JOINED.compiled[FK.id].definition).joins is True
    assert rete.ruleset_for(BOOK.compiled[FK.id].definition).joins is False


@pytest.mark.parametrize("book", [BOOK, BOOK_JOINED], ids=["no-joins", "joins"])
@pytest.mark.parametrize("sequence", [
    ["S3", "P3", "S3", "SUSPECTED", "SELF_FOUND", "INTENT", "S3"],
    ["P3", "SUSPECTED", "S3", "INTENT", "SELF_FOUND", "P3"],
    ["NO_LINES", "NO_LINES"],
], ids=["s3-first", "p3-first", "no-lines"])
def test_status_runs_give_each_claims_statuses_and_line_mapping_in_any_order(book, sequence):
    """One StatusRuns serves the changed claims of one claim: the same loss lines (the search never changes
    them; a claim with other lines needs its own StatusRuns, as the line runs are shared)."""
    runs = StatusRuns(book, FK)
    for name in sequence:
        out = runs(fk_claim(name))
        assert shape(out) == EXPECTED[name], name
        if name in CAR_RULES:
            assert out.coverages["cyber_attack_response"].effects == \
                {k: [{"rule": r} for r in v] for k, v in CAR_RULES[name].items()}, name
        assert shape(run_rules(fk_claim(name), book, FK, reference=True)) == EXPECTED[name]


def test_status_runs_resolve_statuses_only_and_the_reference_mode_resolves_in_full():
    fast, ref = StatusRuns(BOOK, FK)(fk_claim("S3")), StatusRuns(BOOK, FK, reference=True)(fk_claim("S3"))
    assert shape(fast) == shape(ref) == EXPECTED["S3"]
    assert fast.trace == [] and all(s.reasons == [] for s in fast.coverages.values())
    assert "FK-TRIG-ALL-RISK" in [t["rule"] for t in ref.trace]
    assert ref.coverages["liability"].reasons[0]["rule"] == "FK-TRIG-ALL-RISK"


def test_status_runs_run_a_claim_fact_seen_before_no_more_and_share_line_runs_by_their_claim_part():
    runs = StatusRuns(BOOK, FK)
    first = runs(fk_claim("S3"))
    assert runs(fk_claim("S3")) is first                 # the same claim fact: the same outcome, not run again
    assert len(runs._outcomes) == 1 and len(runs._lines) == 1
    runs(fk_claim("INTENT"))                            # a claim property no line rule reads: the lines' run is reused
    assert len(runs._outcomes) == 2 and len(runs._lines) == 1
    runs(fk_claim("SUSPECTED"))                         # attack status is copied into the lines: a second line run
    runs(fk_claim("SELF_FOUND"))                        # same copied part as SUSPECTED
    assert len(runs._outcomes) == 4 and len(runs._lines) == 2
    runs(fk_claim("P3"))                                # another plan kind: the lines' run differs
    assert len(runs._outcomes) == 5 and len(runs._lines) == 3
    ref = StatusRuns(BOOK, FK, reference=True)
    assert ref(fk_claim("S3")) is not ref(fk_claim("S3"))   # the reference mode caches nothing
    assert ref._outcomes == {} and ref._lines == {}


# ------------------------------------------------------------------------------- resolve: evidence
NG = CAT["nagano-privacy-2016"]


def rule_reason(rule_id: str, **extra) -> dict:
    r = BOOK.rules_by_id[rule_id]
    return dict({"rule": r.id, "clause": r.clause, "text": r.text.ja, "text_en": r.text.en}, **extra)


def test_needs_of_several_rules_for_one_field_are_one_entry_over_the_coverages_still_waiting():
    firings = [claim_firing("FK-TRIG-BI-OPTION:needs:incident.cause"), claim_firing("FK-TRIG-ALL-RISK:needs:incident.cause"),
               claim_firing("FK-CAR-TRIGGER:needs:incident.discovered_by"), claim_firing("FK-CAR-CONFIRMED")]
    out = coverage.resolve(BOOK, FK, firings, 0)
    first = BOOK.rules_by_id["FK-TRIG-BI-OPTION:needs:incident.cause"]
    # coverages in programme order; the need of cyber_attack_response is dropped: a rule refused it
    assert out.needs == [{"field": "incident.cause", "why": first.text.ja, "why_en": first.text.en,
                          "rules": ["FK-TRIG-BI-OPTION:needs:incident.cause", "FK-TRIG-ALL-RISK:needs:incident.cause"],
                          "coverages": ["liability", "incident_response", "lost_profit", "continuity_costs"]}]
    out = coverage.resolve(BOOK, FK, firings + [claim_firing("FK-EXC-BI-1-INTENT-NEGLIGENCE")], 0)
    assert [(n["field"], n["coverages"]) for n in out.needs] == [("incident.cause", ["liability", "incident_response"])]


def test_a_need_of_a_line_field_names_the_line_and_a_claim_field_needed_on_a_line_does_not():
    out = coverage.resolve(BOOK, NG, [line_firing("NG-MENTAL-DISTRESS-PERSONS-NEEDED", 1, "mental_distress")], 2)
    assert [(n["field"], n["rules"], n["coverages"]) for n in out.needs] == \
        [("losses[1].persons", ["NG-MENTAL-DISTRESS-PERSONS-NEEDED"], ["liability"])]
    out = coverage.resolve(BOOK, FK, [line_firing("FK-INVESTIGATION-STATUS-NEEDED", 1)], 2)
    assert [(n["field"], n["coverages"]) for n in out.needs] == \
        [("incident.attack.status", ["incident_response", "cyber_attack_response"])]


def test_duties_are_listed_once_each_by_their_first_rule_and_notes_keep_their_line():
    firings = [claim_firing("FK-DUTY-GENERAL"), claim_firing("FK-DUTY-NO-ADMISSION"), claim_firing("FK-DUTY-GENERAL")]
    out = coverage.resolve(BOOK, FK, firings, 0)
    assert out.duties == [{"id": "fk_claim_duties", "rule": "FK-DUTY-GENERAL", "clause": BOOK.rules_by_id["FK-DUTY-GENERAL"].clause},
                          {"id": "fk_no_admission", "rule": "FK-DUTY-NO-ADMISSION",
                           "clause": BOOK.rules_by_id["FK-DUTY-NO-ADMISSION"].clause}]
    out = coverage.resolve(BOOK, NG, [line_firing("NG-BP-CONDOLENCE-REASONABLE", 1, "condolence_gifts"),
                                      claim_firing("NG-EMPLOYEE-CRIME-RESTORED")], 2)
    assert out.notes == [rule_reason("NG-BP-CONDOLENCE-REASONABLE", coverages=["brand_protect"], line=1),
                         rule_reason("NG-EMPLOYEE-CRIME-RESTORED", coverages=["liability", "brand_protect"])]


def test_the_trace_shows_each_firing_with_the_facts_its_conditions_read():
    out = run_rules(fk_claim("S3"), BOOK, FK)
    by_rule = {t["rule"]: t for t in out.trace}
    assert by_rule["FK-MAP-INVESTIGATION-CONFIRMED"] == {
        "rule": "FK-MAP-INVESTIGATION-CONFIRMED", "clause": BOOK.rules_by_id["FK-MAP-INVESTIGATION-CONFIRMED"].clause,
        "effect": "map_line", "targets": ["incident_response"],
        "fired_on": "incident.attack.status=confirmed, incident.cause=cyber_attack, line.category=forensic_investigation, "
                    "line.index=1, plan_kind=all_risk",
        "facts": {"incident.attack.status": "confirmed", "incident.cause": "cyber_attack",
                  "line.category": "forensic_investigation", "line.index": 1, "plan_kind": "all_risk"}}
    assert by_rule["FK-DUTY-NO-ADMISSION"]["fired_on"] == \
        "incident.claim_made_on=2025-10-01, losses.categories=['condolence_gifts', 'damages', 'forensic_investigation']"
    assert by_rule["FK-BI-NO-OPTION"]["targets"] == ["business_interruption"] and \
        by_rule["FK-BI-NO-OPTION"]["facts"] == {"policy.lost_profit_limit": None}
    assert by_rule["FK-TRIG-ALL-RISK"]["targets"] == ["liability", "incident_response"]
    assert len(out.trace) == 11
