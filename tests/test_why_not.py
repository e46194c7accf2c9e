"""Issue 20 items 1-2 (unclaimed benefits, why-not) and issue 17 item 5 (dates of the apology and of the
evidence): the real engine on real claims; every why-not suggestion is applied here, independently of
the engine's own search, and re-adjudicated: it pays."""
from __future__ import annotations

import copy

import pytest

from adjudicator import adjudicate
from adjudicator.decide import to_json
from adjudicator.documents.render import render
from adjudicator.engine.check import REFUSALS, applies_on_a_fact
from adjudicator.engine.examples import load_bases, merge
from adjudicator.engine.rulebook import load_rulebook, read_rulebook
from adjudicator.engine.why_not import settings
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

BASES = load_bases()
FK, NG, JMA = BASES["fukuoka-cyber-2025"], BASES["nagano-privacy-2016"], BASES["jma-support"]


def apply_described(claim: dict, changes: list[dict]) -> dict:
    """A suggestion as the decision describes it, applied to the claim file (not by the engine's code)."""
    out = copy.deepcopy(claim)
    for ch in changes:
        node = out
        *parents, last = ch["field"].split(".")
        for p in parents:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        if ch["op"] == "set":
            node[last] = ch["value"]
        elif ch["op"] == "add":
            node[last] = list(node.get(last) or []) + [ch["value"]]
        else:
            node[last] = [x for x in node.get(last) or [] if x != ch["value"]]
    return out


def suggestions(decision: dict):
    for key, entry in [(f"coverage {c}", e.get("why_not")) for c, e in decision["coverages"].items()] + \
                      [(f"line {ln['index']}", ln.get("why_not")) for ln in decision["lines"]]:
        if not entry:
            continue
        for kind in ("claimant_can_supply", "facts_would_have_to_be"):
            for s in entry[kind]:
                yield key, kind, s


def assert_every_suggestion_pays(claim: dict, decision: dict) -> int:
    n = 0
    for key, kind, s in suggestions(decision):
        after = adjudicate(apply_described(claim, s["changes"]))
        what, name = key.split()
        paid = after["coverages"][name]["payable"] if what == "coverage" else after["lines"][int(name)]["paid"]
        assert paid == s["pays"] > 0, (key, kind, s)
        if kind == "claimant_can_supply":
            assert all(ch["supplied"] for ch in s["changes"]), s
        else:
            assert not all(ch["supplied"] for ch in s["changes"]), s
        n += 1
    return n


# ------------------------------------------------------------------ issue 17 item 5: dates, not assumptions
def test_an_undated_apology_asks_for_its_date_instead_of_assuming_the_period():
    d = adjudicate(merge(NG, {"incident": {"evidence_dates": None}}))
    assert d["coverages"]["brand_protect"]["status"] == "needs_information"
    asked = {n["field"] for n in d["needs_information"]}
    assert "incident.evidence_dates.apology_letters" in asked
    assert d["coverages"]["liability"]["status"] == "covered"          # only brand protect waits


@pytest.mark.parametrize("on,status", [("2016-05-01", "covered"), ("2017-05-01", "covered"),
                                       ("2016-04-30", "not_covered"), ("2017-05-02", "not_covered")])
def test_the_apology_counts_only_inside_the_period_boundary_days_included(on, status):
    # a leak found before the period, so every apology date tried comes after it (004 §5: only the apology's
    # date counts, D2 of the hand-computed claims)
    d = adjudicate(merge(NG, {"incident": {"occurred_on": "2016-04-20", "discovered_on": "2016-04-25",
                                           "evidence_dates": {"apology_letters": on}}}))
    assert d["coverages"]["brand_protect"]["status"] == status


def test_a_mid_term_enrollee_apologising_before_its_cover_began_is_not_covered():
    d = adjudicate(merge(NG, {"policy": {"enrolled_on": "2016-06-05"},
                              "incident": {"occurred_on": "2016-06-15", "discovered_on": "2016-06-16",
                                           "evidence_dates": {"apology_letters": "2016-06-20"}}}))
    assert d["coverages"]["brand_protect"]["status"] == "not_covered"
    assert any(r["rule"] == "NG-BP-APOLOGY-OUTSIDE-PERIOD" for r in d["coverages"]["brand_protect"]["reasons"])


def test_one_dated_apology_in_the_period_settles_it_whatever_the_other_lacks():
    d = adjudicate(merge(NG, {"incident": {"evidence": ["public_announcement", "apology_letters"],
                                           "evidence_dates": {"public_announcement": "2016-06-12"}}}))
    assert d["coverages"]["brand_protect"]["status"] == "covered"
    assert not d["needs_information"]


def test_leak_only_evidence_without_a_date_asks_for_it_and_a_dated_one_pays():
    p2 = {"policy": {"plan": "P2"}, "incident": {"evidence": ["apology_letters"], "evidence_dates": None, "reports": []}}
    d = adjudicate(merge(FK, p2))
    assert d["coverages"]["leak_response"]["status"] == "needs_information"
    assert [n["field"] for n in d["needs_information"]] == ["incident.evidence_dates.apology_letters"]
    dated = merge(FK, merge(p2, {"incident": {"evidence_dates": {"apology_letters": "2025-09-10"}}}))
    assert adjudicate(dated)["coverages"]["leak_response"]["status"] == "covered"
    late = merge(FK, merge(p2, {"incident": {"evidence_dates": {"apology_letters": "2026-05-06"}}}))
    assert adjudicate(late)["coverages"]["leak_response"]["status"] == "not_covered"


def test_an_old_claim_file_without_dates_stays_valid():
    old = merge(NG, {"incident": {"evidence_dates": None}})
    parse_claim(old)  # no error: the field is optional
    d = adjudicate(old)
    assert d["total_payable"] == d["coverages"]["liability"]["payable"] > 0


def test_a_bad_evidence_date_is_an_error_naming_the_field():
    from adjudicator.contract.load import ClaimError
    with pytest.raises(ClaimError) as err:
        parse_claim(merge(NG, {"incident": {"evidence_dates": {"apology_letters": "2016-13-01"}}}))
    assert "incident.evidence_dates.apology_letters" in str(err.value)
    with pytest.raises(ClaimError) as err:
        parse_claim(merge(NG, {"incident": {"evidence_dates": {"apology": "2016-06-01"}}}))
    assert "incident.evidence_dates.apology" in str(err.value)


# ------------------------------------------------------------------------- item 1: unclaimed benefits
def _rule_clauses(programme: str, coverage: str) -> set[str]:
    book, prog = load_rulebook(), load_catalogue()[programme]
    compiled = book.compiled[programme]
    return {r.clause for r in book.for_programme(programme)
            if r.effect.kind == "cover" and coverage in compiled.targets[r.id]} | {prog.coverages[coverage]["reference"]}


def test_regulatory_costs_after_a_report_to_the_ppc_are_listed_when_no_line_claims_them():
    d = adjudicate(FK)  # all-risk plan, report to the PPC, no regulatory-response line
    entry = next(u for u in d["unclaimed_benefits"] if u["coverage"] == "regulatory_response")
    assert entry["programme"] == "fukuoka-cyber-2025" and entry["status"] == "covered" and entry["amount"] is None
    assert entry["clause"] in _rule_clauses("fukuoka-cyber-2025", "regulatory_response")
    assert [n["kind"] for n in entry["needs"]] == ["document"]
    claimed = adjudicate(merge(FK, {"losses": FK["losses"] + [{"category": "regulatory_response", "amount": 100000}]}))
    assert not any(u["coverage"] == "regulatory_response" for u in claimed["unclaimed_benefits"])


def test_brand_protect_after_a_dated_apology_is_listed_when_no_line_claims_it():
    d = adjudicate(merge(NG, {"losses": [{"category": "mental_distress", "amount": 100000, "persons": 10}]}))
    assert [u["coverage"] for u in d["unclaimed_benefits"]] == ["brand_protect"]
    undated = adjudicate(merge(NG, {"incident": {"evidence_dates": None},
                                    "losses": [{"category": "mental_distress", "amount": 100000, "persons": 10}]}))
    entry = undated["unclaimed_benefits"][0]
    assert entry["status"] == "needs_information"
    assert entry["needs"][0]["field"] == "incident.evidence_dates.apology_letters"   # the dated apology


def test_a_fukuoka_cyber_attack_at_a_jma_members_facility_reaches_the_jma_support_with_its_report():
    claim = merge(FK, {"policy": {"facility": "clinic", "jma_member": True},
                       "incident": {"reports": ["ppc"], "closure_days": 3}})
    d = adjudicate(claim)
    jma = [u for u in d["unclaimed_benefits"] if u["programme"] == "jma-support"]
    assert [u["coverage"] for u in jma] == ["cyber_support"]   # a leak by attack is not the leak support
    entry = jma[0]
    change = next(n["change"] for n in entry["needs"] if n.get("change"))
    assert (change["field"], change["op"], change["value"] in ("mhlw", "jma")) == ("incident.reports", "add", True)
    assert any(n["kind"] == "requirement" and "厚生労働省または日本医師会への届出" in n["text"] for n in entry["needs"])
    # the amount is the JMA programme's own adjudication of the same incident, report made
    as_jma = merge(JMA, {"incident": {"reports": [change["value"]], "closure_days": 3,
                                      "occurred_on": FK["incident"]["occurred_on"],
                                      "discovered_on": FK["incident"]["discovered_on"]}})
    assert entry["amount"] == adjudicate(as_jma)["total_payable"] > 0


def test_membership_unknown_the_entry_says_to_confirm_it():
    d = adjudicate(merge(FK, {"incident": {"reports": ["ppc", "mhlw"], "closure_days": 0}}))
    entry = next(u for u in d["unclaimed_benefits"] if u["programme"] == "jma-support")
    assert entry["status"] == "needs_information" and entry["amount"] is None
    assert any(n["field"] == "policy.jma_member" for n in entry["needs"])
    non_member = adjudicate(merge(FK, {"policy": {"jma_member": False}}))
    assert not any(u["programme"] == "jma-support" for u in non_member["unclaimed_benefits"])


def test_a_leak_not_caused_by_an_attack_reaches_the_leak_support_with_both_reports():
    claim = merge(FK, {"policy": {"jma_member": True},
                       "incident": {"cause": "human_error", "attack": None, "leak": {"status": "confirmed"},
                                    "reports": ["ppc", "individuals_notified"]}})
    entry = next(u for u in adjudicate(claim)["unclaimed_benefits"] if u["programme"] == "jma-support")
    assert entry["coverage"] == "leak_support" and entry["status"] == "covered" and entry["amount"] > 0
    missing = merge(claim, {"incident": {"reports": ["ppc"]}})
    entry = next(u for u in adjudicate(missing)["unclaimed_benefits"] if u["programme"] == "jma-support")
    assert any(n.get("change", {}).get("value") == "individuals_notified" for n in entry["needs"])


def test_nagano_prints_no_jma_support_and_a_jma_claim_lists_nothing_unclaimed():
    assert not any(u["programme"] == "jma-support"
                   for u in adjudicate(merge(NG, {"policy": {"jma_member": True}}))["unclaimed_benefits"])
    assert adjudicate(JMA)["unclaimed_benefits"] == []


def test_unclaimed_benefits_are_in_every_document():
    claim = merge(FK, {"policy": {"jma_member": True}, "incident": {"reports": ["ppc"]}})
    parsed = parse_claim(claim)
    d = adjudicate(claim)
    for fmt in ("text", "md", "html"):
        ja = render(d, fmt=fmt, lang="ja", claim=parsed)
        en = render(d, fmt=fmt, lang="en", claim=parsed)
        assert "未請求の給付" in ja and "サイバー攻撃一時支援金" in ja and "法令等対応費用" in ja
        assert "nobody claimed" in en and "Cyber-attack support payment" in en and "Regulatory response costs" in en


# ----------------------------------------------------------------------------------- item 2: why-not
def test_an_exclusion_names_its_clause_and_fact_and_the_facts_change_that_pays():
    claim = merge(FK, {"incident": {"circumstances": ["war"]}})
    d = adjudicate(claim)
    wn = d["coverages"]["liability"]["why_not"]
    assert wn["decided_by"][0]["clause"] == "000 §15 共通⑪ア"
    assert wn["decided_by"][0]["facts"] == {"incident.circumstances": ["war"]}
    assert wn["claimant_can_supply"] == []
    assert wn["facts_would_have_to_be"][0]["changes"] == [
        {"field": "incident.circumstances", "op": "remove", "value": "war", "from": ["war"], "to": [], "supplied": None}]
    assert assert_every_suggestion_pays(claim, d) >= 3
    assert d["lines"][0]["why_not"] == wn   # the refused line carries its coverage's why-not


def test_a_missing_report_is_what_the_claimant_can_still_supply():
    claim = merge(JMA, {"incident": {"reports": []}})
    d = adjudicate(claim)
    supply = d["coverages"]["cyber_support"]["why_not"]["claimant_can_supply"]
    assert {s["changes"][0]["value"] for s in supply} == {"mhlw", "jma"}
    assert all(s["changes"][0]["supplied"] == "report" for s in supply)
    assert assert_every_suggestion_pays(claim, d) == 2


def test_a_late_apology_date_is_a_fact_not_something_to_supply():
    claim = merge(NG, {"incident": {"evidence_dates": {"apology_letters": "2017-06-01"}}})
    d = adjudicate(claim)
    wn = d["coverages"]["brand_protect"]["why_not"]
    assert wn["decided_by"][0]["rule"] == "NG-BP-APOLOGY-OUTSIDE-PERIOD"
    moved = [s for s in wn["facts_would_have_to_be"] if s["changes"][0]["field"] == "incident.evidence_dates.apology_letters"]
    assert moved and moved[0]["changes"][0]["supplied"] is None
    # a new, dated announcement in the period is something the insured can still do
    assert any(len(s["changes"]) == 2 and s["changes"][0]["value"] == "public_announcement"
               for s in wn["claimant_can_supply"])
    assert assert_every_suggestion_pays(claim, d) >= 2


def test_a_cut_coverage_says_the_policys_own_terms_cut_it():
    d = adjudicate(merge(NG, {"policy": {"plan": "A"}, "losses": [{"category": "public_notice", "amount": 2000000}]}))
    wn = d["coverages"]["brand_protect"]["why_not"]
    assert wn["policy_limits"] is True and wn["decided_by"]
    assert all(c["cut"] > 0 and c["clause"] for c in wn["decided_by"])


def test_nothing_refused_no_why_not():
    d = adjudicate(JMA)  # the attack payment is paid; the leak payment nobody asked for is no refusal
    assert d["total_payable"] > 0
    assert not any("why_not" in e for e in d["coverages"].values())
    assert not any("why_not" in ln for ln in d["lines"])


def _refusal_examples():
    book = read_rulebook()
    for rule in book.rules:
        if rule.effect.kind in ("exclude", "not_cover", "refuse_line") and not rule.generated_from:
            for prog in rule.programmes:
                yield pytest.param(rule.id, merge(BASES[prog], rule.tests["fires"]), id=rule.id)


@pytest.mark.parametrize("rule_id,claim", list(_refusal_examples()))
def test_every_refusal_example_names_its_facts_and_every_suggestion_pays(rule_id, claim):
    """Over every refusal and exclusion rule's own example: the decision says which rule and facts refused,
    no deciding rule rests on absent facts alone, and each why-not suggestion, applied, pays."""
    try:
        d = adjudicate(claim)
    except Exception as exc:  # an example may be valid for the rules, not for the catalogue's cross-checks
        pytest.skip(f"example not a whole claim: {exc}")
    for c, e in d["coverages"].items():
        wn = e.get("why_not")
        if not wn or wn.get("policy_limits"):
            continue
        for dec in wn["decided_by"]:
            if dec["rule"]:
                assert any(v is not None for v in dec["facts"].values()), (c, dec)
        assert wn["search"]["evaluated"] <= settings(load_rulebook())["search"]["max_evaluations"]
    assert_every_suggestion_pays(claim, d)


def test_why_not_is_deterministic():
    claim = merge(NG, {"incident": {"circumstances": ["war"], "evidence_dates": None}})
    assert to_json(adjudicate(claim)) == to_json(adjudicate(copy.deepcopy(claim)))


def test_the_search_is_bounded_by_work_on_a_claim_with_many_lines():
    from adjudicator.contract.limits import MAX_LOSS_LINES
    conf = settings(load_rulebook())["search"]
    lines = [{"category": "fine_penalty", "amount": 1000}] * MAX_LOSS_LINES
    d = adjudicate(merge(FK, {"incident": {"circumstances": ["war"]}, "losses": lines}))
    searched = [ln["why_not"]["search"] for ln in d["lines"] if ln.get("why_not") and "search" in ln["why_not"]]
    assert searched
    assert all(s["evaluated"] <= max(1, conf["max_work"] // (1 + MAX_LOSS_LINES)) for s in searched)


def test_rules_check_holds_that_no_refusal_rests_on_an_absent_fact_alone():
    book = read_rulebook()
    for rule in book.rules:
        if rule.effect.kind in REFUSALS and not rule.plans and rule.absence_is_fact is None:
            assert any(applies_on_a_fact(c) for c in rule.when + rule.line), rule.id
    assert not applies_on_a_fact({"fact": "policy.jma_member", "present": False})
    assert applies_on_a_fact({"any": [{"fact": "a", "is": 1}, {"fact": "b", "present": True}]})
    assert not applies_on_a_fact({"any": [{"fact": "a", "is": 1}, {"fact": "b", "present": False}]})


def test_rules_check_refuses_an_exclusion_on_an_absent_fact(tmp_path):
    import shutil
    from adjudicator.engine.check import check_rulebook
    from adjudicator.policy.catalogue import rules_dir
    root = tmp_path / "rules"
    shutil.copytree(rules_dir(), root)
    (root / "rulebook" / "jma" / "99_bad.yaml").write_text(
        "programme: jma-support\nrules:\n  - id: JMA-ZZZ-ABSENT\n    clause: \"000 §13\"\n"
        "    title: {ja: \"t\", en: \"t\"}\n    text: {ja: \"t\", en: \"t\"}\n"
        "    when: [{fact: incident.closure_days, present: false}]\n    effect: {exclude: all}\n"
        "    tests: {fires: {incident: {closure_days: null}}, silent: {}}\n", encoding="utf-8")
    problems = check_rulebook(root)
    assert any("JMA-ZZZ-ABSENT" in p and "absent" in p for p in problems), problems


# ------------------------------------------------------------------- item 5: the refusal notice's recourse
@pytest.mark.parametrize("programme,numbers", [("fukuoka-cyber-2025", ["0570-022808", "092-431-4847", "050-3808-4966"]),
                                               ("nagano-privacy-2016", ["0570-022808", "03-4332-5241"])])
def test_the_refusal_notice_names_contacts_and_the_adr_centre_once_after_the_reasons(programme, numbers):
    claim = merge(BASES[programme], {"incident": {"circumstances": ["war"]}})
    d = adjudicate(claim)
    assert d["total_payable"] == 0
    for fmt in ("text", "md", "html"):
        doc = render(d, fmt=fmt, lang="ja", claim=parse_claim(claim))
        assert doc.count("一般社団法人日本損害保険協会 そんぽADRセンター") == 1, fmt
        heading = doc.index("保険金をお支払いできない理由")
        assert doc.index("そんぽADRセンター") > doc.index("戦争", heading) > heading   # after the reasons
        for n in numbers:
            assert n in doc, (fmt, n)


def test_what_the_claimant_supplies_and_what_is_a_fact():
    from adjudicator.engine.why_not import Change, supplied_kind
    conf = settings(load_rulebook())
    unknown = {"policy": {"facility": "clinic"}, "incident": {"reports": ["ppc"]}}
    member_no = {"policy": {"facility": "clinic", "jma_member": False}, "incident": {"reports": ["ppc"]}}
    assert supplied_kind(Change("policy.jma_member", "set", True), unknown, conf) == "information"
    assert supplied_kind(Change("policy.jma_member", "set", True), member_no, conf) is None
    assert supplied_kind(Change("incident.reports", "add", "mhlw"), unknown, conf) == "report"
    assert supplied_kind(Change("incident.reports", "remove", "ppc"), unknown, conf) is None
    assert supplied_kind(Change("incident.evidence", "add", "apology_letters"), unknown, conf) == "apology"
    assert supplied_kind(Change("incident.attack.status", "set", "confirmed"), unknown, conf) == "causation"
    assert supplied_kind(Change("incident.attack.status", "set", "ruled_out"), {"incident": {"attack": {"status": "suspected"}}}, conf) is None
    dated = {"incident": {"evidence_dates": {"apology_letters": "2017-06-01"}}}
    assert supplied_kind(Change("incident.evidence_dates.apology_letters", "set", "2016-06-01"), dated, conf) is None
    assert supplied_kind(Change("incident.evidence_dates.public_announcement", "set", "2016-06-01"), dated, conf) == "date"


def test_a_change_that_covers_but_pays_nothing_is_no_suggestion():
    # the liability limit is used up by earlier payments: without the war the coverage responds, pays 0
    claim = merge(FK, {"incident": {"circumstances": ["war"]}, "prior_payments": {"liability": 10 ** 12}})
    d = adjudicate(claim)
    wn = d["coverages"]["liability"]["why_not"]
    assert wn["facts_would_have_to_be"] == [] and wn["claimant_can_supply"] == []
    assert wn["decided_by"][0]["clause"] == "000 §15 共通⑪ア"   # what refused it is still said
    assert_every_suggestion_pays(claim, d)


def test_liability_is_listed_only_once_a_third_party_has_claimed():
    costs_only = [{"category": "forensic_investigation", "amount": 500000}]
    before = adjudicate(merge(FK, {"incident": {"claim_made_on": None}, "losses": costs_only}))
    assert "liability" not in [u["coverage"] for u in before["unclaimed_benefits"]]
    after = adjudicate(merge(FK, {"losses": costs_only}))   # damages were claimed on 2025-10-01
    assert "liability" in [u["coverage"] for u in after["unclaimed_benefits"]]


def test_a_change_the_search_does_not_shape_check_again_would_pass_the_shape_check():
    """why_not._within_shape lets the search skip the input gate's walk of a changed claim; wherever it
    does, the walk passes, and on a claim with no values to spare it never skips."""
    import sys
    from adjudicator.contract.load import check_shape
    from adjudicator.engine import why_not as wn
    from adjudicator.policy.catalogue import load_catalogue
    from adjudicator.engine.rulebook import load_rulebook
    from adjudicator.policy.claims import parse_claim
    from support import ROOT
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from corpus import make_corpus
    book, cat = load_rulebook(), load_catalogue()
    skipped = 0
    for raw in make_corpus(40, seed=5):
        claim = parse_claim(raw, cat)
        programme = cat[claim.programme]
        data = claim.model_dump(mode="python", exclude_none=True)
        room = wn._shape_room(data)
        assert room is not None and room > 0
        paths = wn.claim_paths(book, programme, [r.id for r in book.for_programme(programme.id)])
        singles = wn.candidates(claim, data, programme, paths)
        for combo in [(c,) for c in singles] + list(zip(singles, singles[1:])):
            if wn._within_shape(combo, room):
                skipped += 1
                assert check_shape(wn.apply(data, combo)) >= 0
            assert not wn._within_shape(combo, 0)
            assert not wn._within_shape(combo, None)
    assert skipped > 500


def test_a_finding_already_made_is_not_the_claimants_to_supply():
    """Round-4 check J10: after the investigation ruled the attack out, "confirm the attack" was offered as
    something the claimant supplies (200,000 yen of JMA support); it is a change to the facts."""
    from adjudicator.engine.why_not import Change, supplied_kind
    conf = settings(load_rulebook())
    confirm = Change("incident.attack.status", "set", "confirmed")
    for status, kind in (("suspected", "causation"), ("ruled_out", None)):
        assert supplied_kind(confirm, {"incident": {"attack": {"status": status}}}, conf) == kind, status
    defect = Change("incident.software_defect_caused", "set", False)
    assert supplied_kind(defect, {"incident": {}}, conf) == "causation"
    assert supplied_kind(defect, {"incident": {"software_defect_caused": True}}, conf) is None
    decision = adjudicate(merge(JMA, {"incident": {"attack": {"status": "ruled_out"}, "closure_days": 1}}))
    why = decision["coverages"]["cyber_support"]["why_not"]
    assert why["claimant_can_supply"] == []
    assert [[c["field"], c["to"]] for s in why["facts_would_have_to_be"] for c in s["changes"]] == \
        [["incident.attack.status", "confirmed"]]
    assert [r["rule"] for r in decision["coverages"]["cyber_support"]["reasons"]] == ["JMA-CYBER-RULED-OUT"]
