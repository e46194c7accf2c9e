"""Loading the rulebook: the fingerprint, the needs-information companions of `requires`, and the
compilation for every programme at load. Each test loads a fresh copy of rules/ (a new folder is a
new cache entry), so what is checked is the loading itself, not a rulebook loaded earlier."""
from __future__ import annotations

import shutil

import pytest
import yaml

from adjudicator.engine.compile import rule_paths
from adjudicator.engine.rulebook import RulebookError, load_rulebook, read_rulebook
from adjudicator.policy.catalogue import load_catalogue
from support import ROOT

PROBE = {
    "programme": "fukuoka-cyber-2025",
    "rules": [{
        "id": "ZZ-PROBE",
        "clause": "000 §8 ア",
        "on": "line",
        "plans": ["all_risk"],
        "title": {"ja": "試験規則", "en": "Probe rule"},
        "text": {"ja": "試験。", "en": "A probe."},
        "wording": "試験の文言",
        "when": [{"fact": "incident.cause", "is": "cyber_attack"}, {"fact": "incident.attack.kind", "is": "ransomware"}],
        "line": [{"fact": "line.category", "is": "damages"}, {"fact": "line.persons", "gte": 1}],
        "requires": ["incident.attack.kind", "line.persons"],
        "effect": {"note": "costs"},
        "tests": {"fires": {}, "silent": {}},
    }],
}


@pytest.fixture
def rules_copy(tmp_path):
    def make(name: str = "rules", probe: dict | None = PROBE):
        root = tmp_path / name
        shutil.copytree(ROOT / "rules", root)
        if probe is not None:
            (root / "rulebook" / "fukuoka" / "99_probe.yaml").write_text(
                yaml.safe_dump(probe, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return root
    return make


def test_fingerprint_covers_every_yaml_file_by_path_and_bytes(rules_copy):
    a, b = rules_copy("a"), rules_copy("b")
    base = read_rulebook(a).sha256
    assert len(base) == 64 and base == read_rulebook(b).sha256  # the folder's own path does not count
    c = rules_copy("c")
    (c / "notes.txt").write_text("not a rule file", encoding="utf-8")
    (c / "rulebook" / "fukuoka" / "extra.yml.bak").write_text("x", encoding="utf-8")
    assert read_rulebook(c).sha256 == base
    d = rules_copy("d")
    probe = d / "rulebook" / "fukuoka" / "99_probe.yaml"
    probe.write_text(probe.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # one byte more
    assert read_rulebook(d).sha256 != base
    e = rules_copy("e")
    (e / "rulebook" / "fukuoka" / "99_probe.yaml").rename(e / "rulebook" / "fukuoka" / "98_probe.yaml")
    assert read_rulebook(e).sha256 != base  # same bytes, another path
    f = rules_copy("f")
    (f / "rulebook" / "fukuoka" / "extra.yml").write_text("# a comment\n", encoding="utf-8")
    assert read_rulebook(f).sha256 != base  # .yml counts too
    g = rules_copy("g")
    (g / "rulebook" / "fukuoka" / "99_probe.yaml").rename(g / "rulebook" / "fukuoka" / "99_probe.yam")
    h = rules_copy("h")
    (h / "rulebook" / "fukuoka" / "99_probe.yaml").rename(h / "rulebook" / "fukuoka" / "99_probe.yamx")
    assert read_rulebook(g).sha256 == read_rulebook(h).sha256 != base


def test_requires_gives_each_fact_a_needs_information_companion(rules_copy):
    book = read_rulebook(rules_copy())
    by_id = book.rules_by_id
    main = by_id["ZZ-PROBE"]
    claim_c, line_c = by_id["ZZ-PROBE:needs:incident.attack.kind"], by_id["ZZ-PROBE:needs:line.persons"]
    ids = [r.id for r in book.rules]
    assert ids.index("ZZ-PROBE") + 1 == ids.index("ZZ-PROBE:needs:incident.attack.kind")
    assert ids.index("ZZ-PROBE") + 2 == ids.index("ZZ-PROBE:needs:line.persons")
    # the rule itself fires only with every required fact present, each in its own condition list
    assert main.when == PROBE["rules"][0]["when"] + [{"fact": "incident.attack.kind", "present": True}]
    assert main.line == PROBE["rules"][0]["line"] + [{"fact": "line.persons", "present": True}]
    assert main.generated_from is None and main.effect.kind == "note"
    # a companion keeps only conditions on facts not required, and asks that its fact be absent
    assert claim_c.when == [{"fact": "incident.cause", "is": "cyber_attack"},
                            {"fact": "incident.attack.kind", "present": False}]
    assert claim_c.line == [{"fact": "line.category", "is": "damages"}]
    assert line_c.when == [{"fact": "incident.cause", "is": "cyber_attack"}]
    assert line_c.line == [{"fact": "line.category", "is": "damages"}, {"fact": "line.persons", "present": False}]
    for comp, path, ja, en in ((claim_c, "incident.attack.kind", "攻撃の種類", "Kind of attack"),
                               (line_c, "line.persons", "人数", "Persons")):
        assert comp.generated_from == "ZZ-PROBE"
        assert (comp.effect.kind, comp.effect.target, comp.effect.coverages) == ("need", path, ["costs"])
        assert comp.wording == "試験の文言"
        assert (comp.clause, comp.title, comp.on, comp.plans, comp.programmes, comp.source_file) == \
            (main.clause, main.title, "line", ["all_risk"], ["fukuoka-cyber-2025"], "rulebook/fukuoka/99_probe.yaml")
        # the field by its label (rules/desk.yaml), not its path (issue 15)
        assert comp.text.ja == f"「試験規則」（000 §8 ア）を判断するには「{ja}」が必要ですが、請求ファイルにありません。"
        assert comp.text.en == f"\u201c{en}\u201d is needed to decide \u201cProbe rule\u201d (000 §8 ア) and the claim file lacks it."
        assert comp.tests == {}


def test_a_rule_without_requires_is_read_as_written(rules_copy):
    probe = {**PROBE, "rules": [dict(PROBE["rules"][0], requires=[])]}
    book = read_rulebook(rules_copy(probe=probe))
    assert not any(r.id.startswith("ZZ-PROBE:") for r in book.rules)
    assert book.rules_by_id["ZZ-PROBE"].when == PROBE["rules"][0]["when"]


def test_every_programme_is_compiled_at_load(rules_copy):
    root = rules_copy()
    book, cat = load_rulebook(root), load_catalogue(root)
    assert set(book.compiled) == set(cat.programmes)
    assert read_rulebook(root).compiled == {}
    for pid, compiled in book.compiled.items():
        rules = book.for_programme(pid)
        assert list(compiled.definition) == [r.id for r in rules]
        assert compiled.paths == {r.id: rule_paths(r) for r in rules}
        assert compiled.fields >= {p for r in rules for p in rule_paths(r)}
    fk = book.compiled["fukuoka-cyber-2025"]
    costs = cat["fukuoka-cyber-2025"].data["coverage_groups"]["costs"]
    assert fk.targets["ZZ-PROBE"] == costs and fk.targets["ZZ-PROBE:needs:line.persons"] == costs
    assert {"incident.attack.kind", "line.persons", "line.category", "incident.cause"} <= fk.fields
    assert "ZZ-PROBE" not in book.compiled["nagano-privacy-2016"].definition


@pytest.mark.parametrize("change,problem", [
    ({"when": [{"fact": "incident.nowhere", "is": 1}]}, "fukuoka-cyber-2025: unknown fact 'incident.nowhere'"),
    ({"effect": {"note": "no_such_group"}}, "fukuoka-cyber-2025: fukuoka-cyber-2025: no coverage or coverage group"),
])
def test_a_rulebook_that_does_not_compile_is_refused_at_load(rules_copy, change, problem):
    probe = {**PROBE, "rules": [dict(PROBE["rules"][0], requires=[], **change)]}
    root = rules_copy(probe=probe)
    with pytest.raises(RulebookError) as err:
        load_rulebook(root)
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(problem)
    assert str(err.value) == err.value.problems[0]


def test_every_programme_that_does_not_compile_is_named(rules_copy):
    probe = {"programmes": ["fukuoka-cyber-2025", "nagano-privacy-2016"],
             "rules": [dict(PROBE["rules"][0], requires=[], plans=None, when=[{"fact": "incident.nowhere", "is": 1}])]}
    with pytest.raises(RulebookError) as err:
        load_rulebook(rules_copy(probe=probe))
    assert [p.split(":")[0] for p in err.value.problems] == ["fukuoka-cyber-2025", "nagano-privacy-2016"]
    assert str(err.value) == "\n".join(err.value.problems)
