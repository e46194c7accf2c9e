"""Issue 6: the scenario suite fails while a rule is unexercised, and a failing scenario explains itself."""
import os
import shutil
import subprocess
import sys

import pytest

from support import ROOT

EXTRA_RULE = """
programme: fukuoka-cyber-2025
rules:
  - id: FK-ZZZ-UNEXERCISED
    clause: "000 §15 利益固有⑦"
    plans: [leak_only]
    title: {ja: "試験用", en: "Test only"}
    text: {ja: "試験用のルール", en: "A rule no scenario exercises"}
    when: [{fact: incident.circumstances, has: satellite_failure}]
    effect: {note: all}
    tests: {fires: {policy: {plan: P3}, incident: {circumstances: [satellite_failure]}}, silent: {}}
"""

FAILING = """Feature: A deliberately wrong expectation
  Scenario: The seed example does not pay one yen more
    Given the claim file "scenarios/examples/nagano_seed_example.yaml"
    When the claim is adjudicated
    Then the total payable is 16,347,501 yen
"""


@pytest.fixture
def workspace(tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def run(workspace, *args):
    env = dict(os.environ, ADJUDICATOR_RULES=str(workspace / "rules"))
    return subprocess.run([sys.executable, "-m", "pytest", "scenarios", "-q", "-p", "no:cacheprovider", *args],
                          cwd=workspace, env=env, capture_output=True, text=True, timeout=600)


def test_an_unexercised_rule_fails_the_run(workspace):
    (workspace / "rules" / "rulebook" / "fukuoka" / "99_extra.yaml").write_text(EXTRA_RULE, encoding="utf-8")
    r = run(workspace)
    assert r.returncode != 0, r.stdout[-2000:]
    assert "rules never fired by a scenario: 1" in r.stdout and "FK-ZZZ-UNEXERCISED" in r.stdout
    assert " passed" in r.stdout and " failed" not in r.stdout  # every scenario passed; the gate failed


def test_a_failing_scenario_prints_expected_actual_and_trace(workspace):
    (workspace / "scenarios" / "features" / "nagano" / "zz_failing.feature").write_text(FAILING, encoding="utf-8")
    r = run(workspace, "-k", "one_yen_more")
    assert r.returncode != 0
    assert "expected: total 16,347,501" in r.stdout and "actual:   total 16,347,500" in r.stdout
    assert "trace:" in r.stdout and "NG-TRIG-LIABILITY" in r.stdout
