"""Issue 2: the claim-file contract, bad input, the CLI and the Python API."""
import json

import pytest
import yaml

from adjudicator import ClaimError, adjudicate
from adjudicator.engine.examples import merge

from support import EXAMPLES, ROOT, run_cli


@pytest.mark.parametrize("name", ["fukuoka_seed_example.yaml", "nagano_seed_example.yaml"])
def test_shipped_examples_adjudicate_as_the_seed_says(name):
    d = adjudicate(EXAMPLES / name)
    expected = {"fukuoka_seed_example.yaml": 30_000_000, "nagano_seed_example.yaml": 16_347_500}[name]
    assert d["total_payable"] == expected
    assert d["needs_information"] == []


def test_shared_examples_validate():
    shared = ROOT.parent / "shared" / "examples"
    files = sorted(shared.glob("*.yaml"))
    if not files:
        pytest.skip("../shared/examples not present on this machine")
    for f in files:
        assert adjudicate(f)["claim_id"]


def test_yaml_and_json_give_the_same_decision(write_claim):
    data = yaml.safe_load((EXAMPLES / "nagano_seed_example.yaml").read_text())
    a = adjudicate(write_claim(data, "c.yaml"))
    b = adjudicate(write_claim(data, "c.json"))
    assert a == b


def test_path_and_dict_give_the_same_decision():
    path = EXAMPLES / "fukuoka_seed_example.yaml"
    assert adjudicate(path) == adjudicate(yaml.safe_load(path.read_text()))


def test_claim_id_defaults_to_the_file_stem(write_claim):
    data = yaml.safe_load((EXAMPLES / "fukuoka_seed_example.yaml").read_text())
    del data["claim_id"]
    assert adjudicate(write_claim(data, "FK-77.yaml"))["claim_id"] == "FK-77"


def test_cli_json_is_deterministic_bytes():
    a = run_cli("adjudicate", str(EXAMPLES / "nagano_seed_example.yaml"), "--format", "json")
    b = run_cli("adjudicate", str(EXAMPLES / "nagano_seed_example.yaml"), "--format", "json")
    assert a.returncode == 0 and a.stdout == b.stdout and a.stderr == ""
    assert json.loads(a.stdout)["total_payable"] == 16_347_500


BAD = [
    # (description, patch, expected field path, words in the message)
    ("unknown top-level key", {"polcy": {}}, "polcy", "unknown field"),
    ("unknown nested key", {"incident": {"discoverd_by": "self"}}, "incident.discoverd_by", "unknown field"),
    ("wrong type amount", {"losses": [{"category": "damages", "amount": "100"}]}, "losses[0].amount", "whole number"),
    ("float amount", {"losses": [{"category": "damages", "amount": 100.5}]}, "losses[0].amount", "whole number"),
    ("negative amount", {"losses": [{"category": "damages", "amount": -1}]}, "losses[0].amount", "0 or more"),
    ("bool as string", {"incident": {"leak": {"corporate_info": "yes"}}}, "incident.leak.corporate_info", "true or false"),
    ("enum out of range", {"incident": {"discovered_by": "neighbour"}}, "incident.discovered_by", "one of public_agency, "),
    ("cause out of range", {"incident": {"cause": "meteor"}}, "incident.cause", "one of cyber_attack, "),
    ("loss category out of range", {"losses": [{"category": "yacht", "amount": 1}]}, "losses[0].category", "one of damages, "),
    ("programme out of range", {"programme": "tokyo-cyber"}, "programme", "one of fukuoka-cyber-2025, "),
    ("discovered before occurred", {"incident": {"occurred_on": "2025-09-10", "discovered_on": "2025-09-01"}}, "incident.discovered_on", "before incident.occurred_on"),
    ("claim before occurred", {"incident": {"claim_made_on": "2025-08-01"}}, "incident.claim_made_on", "before incident.occurred_on"),
    ("impossible calendar date", {"incident": {"occurred_on": "2025-02-30"}}, "incident.occurred_on", "YYYY-MM-DD"),
    ("plan of another programme", {"policy": {"plan": "D"}}, "policy.plan", "not a plan of fukuoka-cyber-2025"),
    ("missing facility", {"policy": {"facility": None}}, "policy.facility", "required"),
    ("negative persons", {"losses": [{"category": "mental_distress", "amount": 1, "persons": 0}]}, "losses[0].persons", "1 or more"),
    ("negative prior payment", {"prior_payments": {"costs": -5}}, "prior_payments.costs", "0 or more"),
    ("astronomical amount", {"losses": [{"category": "damages", "amount": 2 ** 60}]}, "losses[0].amount", "or less"),
    ("astronomical head count", {"incident": {"leak": {"personal_records": 2 ** 60}}}, "incident.leak.personal_records", "or less"),
]


@pytest.mark.parametrize("desc,patch,path,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_exit_2_names_the_field(desc, patch, path, words, bases, write_claim):
    claim = merge(bases["fukuoka-cyber-2025"], patch)
    f = write_claim(claim)
    r = run_cli("adjudicate", str(f), "--format", "json")
    assert r.returncode == 2, r
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert any(line.startswith(f"{path}: ") and words in line for line in lines), lines
    with pytest.raises(ClaimError) as exc:
        adjudicate(claim)
    assert path in str(exc.value)


def test_every_problem_gets_its_own_line(bases, write_claim):
    claim = merge(bases["fukuoka-cyber-2025"], {"incident": {"cause": "meteor", "discovered_by": "x"},
                                                 "losses": [{"category": "damages", "amount": -3}]})
    r = run_cli("adjudicate", str(write_claim(claim)))
    assert r.returncode == 2 and r.stdout == ""
    paths = sorted(line.split(":")[0] for line in r.stderr.strip().splitlines())
    assert paths == ["incident.cause", "incident.discovered_by", "losses[0].amount"]


def test_malformed_yaml_and_duplicate_keys(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("programme: [unclosed\n")
    r = run_cli("adjudicate", str(bad))
    assert r.returncode == 2 and r.stdout == "" and "(claim file): not valid YAML" in r.stderr
    dup = tmp_path / "dup.yaml"
    dup.write_text((EXAMPLES / "nagano_seed_example.yaml").read_text() + "programme: jma-support\n")
    r = run_cli("adjudicate", str(dup))
    assert r.returncode == 2 and "duplicate key 'programme'" in r.stderr
    dupj = tmp_path / "dup.json"
    dupj.write_text('{"programme": "jma-support", "programme": "jma-support"}')
    r = run_cli("adjudicate", str(dupj))
    assert r.returncode == 2 and "duplicate key" in r.stderr


def test_missing_file_is_bad_input(tmp_path):
    r = run_cli("adjudicate", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and r.stdout == "" and "cannot read" in r.stderr


def test_jma_needs_no_plan_nor_facility(bases):
    claim = bases["jma-support"]
    del claim["policy"]["facility"]
    assert adjudicate(claim)["total_payable"] == 100_000
    claim["policy"]["plan"] = "none"
    d = adjudicate(claim)
    assert d["total_payable"] == 100_000 and d["plan"] is None
    claim["policy"]["plan"] = "S3"
    with pytest.raises(ClaimError, match=r"policy\.plan: jma-support has no plans"):
        adjudicate(claim)


def test_datetime_is_not_a_date(bases):
    claim = merge(bases["fukuoka-cyber-2025"], {"incident": {"occurred_on": "2025-09-01T10:00:00"}})
    with pytest.raises(ClaimError, match=r"incident\.occurred_on"):
        adjudicate(claim)


def test_plans_lists_limits_with_the_clinic_cap():
    r = run_cli("plans", "fukuoka-cyber-2025")
    assert r.returncode == 0
    s5000 = next(line for line in r.stdout.splitlines() if line.strip().startswith("S5000"))
    assert "clinic:30,000,000" in s5000 and "hospital:50,000,000" in s5000 and "liability=50,000,000" in s5000
    p20000 = next(line for line in r.stdout.splitlines() if line.strip().startswith("P20000"))
    assert "clinic:30,000,000" in p20000 and "care_facility:200,000,000" in p20000
    r = run_cli("plans", "nowhere")
    assert r.returncode == 2 and r.stdout == ""
    r = run_cli("plans")
    assert "jma-support" in r.stdout and "nagano-privacy-2016" in r.stdout


def test_decision_has_every_coverage_of_the_programme():
    expected = {
        "fukuoka-cyber-2025": ["liability", "incident_response", "cyber_attack_response", "leak_response",
                               "regulatory_response", "lost_profit", "continuity_costs"],
        "nagano-privacy-2016": ["liability", "brand_protect"],
    }
    for name in ("fukuoka_seed_example.yaml", "nagano_seed_example.yaml"):
        d = adjudicate(EXAMPLES / name)
        assert list(d["coverages"]) == expected[d["programme"]]
        assert all(isinstance(c["payable"], int) for c in d["coverages"].values())
        assert d["total_payable"] == sum(c["payable"] for c in d["coverages"].values())
        assert len(d["rulebook"]["sha256"]) == 64
