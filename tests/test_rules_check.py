"""Issue 3: `adjudicator rules check` exits non-zero on each kind of rulebook problem, and
`rules list` prints the rules with their clauses."""
import shutil

import pytest

from support import ROOT, run_cli

GOOD = """
  - id: FK-TEST-EXTRA
    clause: "000 §15 共通⑩"
    title: {ja: "試験", en: "Test"}
    text: {ja: "試験用", en: "Test only"}
    when: [{fact: incident.circumstances, has: crypto_assets}]
    effect: {note: all}
    tests: {fires: {incident: {circumstances: [crypto_assets]}}, silent: {}}
"""

MUTATIONS = {
    "duplicate id": (GOOD.replace("FK-TEST-EXTRA", "FK-EXC-COMMON-10-CRYPTO"), "duplicate id"),
    "clause not citing a seed": (GOOD.replace('"000 §15 共通⑩"', '"somewhere"'), "clause must cite a seed section"),
    "missing english text": (GOOD.replace('en: "Test only"', 'en: ""'), "text.en"),
    "unknown coverage": (GOOD.replace("{note: all}", "{note: [yacht_cover]}"), "no coverage or coverage group named 'yacht_cover'"),
    "unknown fact": (GOOD.replace("incident.circumstances", "incident.weather"), "unknown fact 'incident.weather'"),
    "never fires on its example": (GOOD.replace("fires: {incident: {circumstances: [crypto_assets]}}", "fires: {}"),
                                   "does not fire on its `fires` example"),
    "fires on its silent example": (GOOD.replace("silent: {}", "silent: {incident: {circumstances: [crypto_assets]}}"),
                                    "fires on its `silent` example"),
    "contradictory conditions": (GOOD.replace("when: [{fact: incident.circumstances, has: crypto_assets}]",
                                              "when: [{fact: incident.cause, is: human_error}, {fact: incident.cause, is: fire_explosion}]"),
                                 "unreachable"),
    "duplicate key": (GOOD.replace("    effect: {note: all}", "    effect: {note: all}\n    effect: {exclude: all}"), "duplicate key 'effect'"),
    "missing tests": (GOOD.replace("    tests: {fires: {incident: {circumstances: [crypto_assets]}}, silent: {}}\n", ""),
                      "tests need a `fires` and a `silent`"),
}


def rulebook_with(tmp_path, extra: str):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "rulebook" / "fukuoka" / "99_test.yaml").write_text(
        "programme: fukuoka-cyber-2025\nrules:" + extra, encoding="utf-8")
    return rules


def test_a_sound_extra_rule_passes(tmp_path):
    r = run_cli("--rules", str(rulebook_with(tmp_path, GOOD)), "rules", "check")
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_rules_check_fails_on(tmp_path, name):
    extra, words = MUTATIONS[name]
    r = run_cli("--rules", str(rulebook_with(tmp_path, extra)), "rules", "check")
    assert r.returncode == 1, (name, r.stdout, r.stderr)
    assert words in r.stderr, r.stderr


def test_rules_list_prints_rules_with_clauses():
    r = run_cli("rules", "list", "nagano-privacy-2016")
    assert r.returncode == 0
    line = next(x for x in r.stdout.splitlines() if x.startswith("NG-EXC-GEN-6-RETROACTIVE"))
    assert "004 §7 普通約款⑥" in line and "exclude" in line and "遡及日前の行為 / Act before the retroactive date" in line
    assert "FK-" not in r.stdout


def test_rules_list_names_what_is_out_of_scope_in_the_asked_language():
    import yaml
    items = yaml.safe_load((ROOT / "rules" / "out_of_scope.yaml").read_text(encoding="utf-8"))
    items = items["items"] if isinstance(items, dict) else items
    en, ja = run_cli("rules", "list"), run_cli("rules", "list", "--lang", "ja")
    assert en.returncode == ja.returncode == 0
    assert "Out of scope (rules/out_of_scope.yaml):" in en.stdout and "ルールにしない事項" in ja.stdout
    for item in items:
        assert f"{item['item']}: {item['reason']}" in en.stdout
        assert f"{item['item_ja']}: {item['reason_ja']}" in ja.stdout


CLOCK = '  days: {value: 30, reference: "000 §18 万一事故にあわれたら(つづき): 請求の手続きを完了した日から原則、30日以内"}'


@pytest.mark.parametrize("days", ["", "  days: 30", "  days: {value: 0, reference: x}", "  days: {value: 30, reference: ''}",
                                  "  days: {value: '30', reference: x}"])
def test_rules_check_fails_on_a_programme_without_a_sound_payment_clock(tmp_path, days):
    """The due dates and overdue marks of the work list rest on each programme's payment_clock."""
    rules = rulebook_with(tmp_path, GOOD)
    path = rules / "programmes" / "fukuoka-cyber-2025.yaml"
    text = path.read_text(encoding="utf-8")
    assert CLOCK in text
    path.write_text(text.replace(CLOCK, days or "  days: {reference: x}"), encoding="utf-8")
    r = run_cli("--rules", str(rules), "rules", "check")
    assert r.returncode == 1, r.stdout
    assert "programmes/fukuoka-cyber-2025: payment_clock.days needs a whole number of days >= 1" in r.stderr


def test_the_payment_clock_comes_from_the_programme_and_an_unknown_programme_gets_the_shortest(tmp_path):
    from adjudicator.policy.catalogue import load_catalogue
    rules = rulebook_with(tmp_path, GOOD)
    path = rules / "programmes" / "jma-support.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  days: {value: 30," in text
    path.write_text(text.replace("  days: {value: 30,", "  days: {value: 21,"), encoding="utf-8")
    cat = load_catalogue(rules)
    assert cat.payment_clock_days("jma-support") == 21
    assert cat.payment_clock_days("fukuoka-cyber-2025") == 30
    assert cat.payment_clock_days("a-programme-since-removed") == 21   # early, never late


def test_payment_clock_check_boundaries():
    """In process (mutation testing reaches it): 1 day is the least sound clock; bools, strings, a blank
    reference and a missing section are refused, each programme named."""
    from types import SimpleNamespace as NS

    from adjudicator.engine.check import _payment_clocks

    def problems(node):
        return _payment_clocks(NS(programmes={"p": NS(data={"payment_clock": {"days": node}} if node != "none" else {})}))
    assert problems({"value": 1, "reference": "r"}) == []
    assert problems({"value": 30, "reference": "000 §18"}) == []
    for bad in ({"value": 0, "reference": "r"}, {"value": -5, "reference": "r"}, {"value": True, "reference": "r"},
                {"value": "30", "reference": "r"}, {"value": 30, "reference": "  "}, {"value": 30}, 30, "none"):
        assert problems(bad) == ["programmes/p: payment_clock.days needs a whole number of days >= 1 and its reference"], bad
    two = NS(programmes={"a": NS(data={}), "b": NS(data={"payment_clock": {"days": {"value": 30, "reference": "r"}}})})
    assert [p.split(":")[0] for p in _payment_clocks(two)] == ["programmes/a"]
