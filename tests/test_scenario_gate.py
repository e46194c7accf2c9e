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


FAILING_JA = """# language: ja
機能: わざと誤った期待（日本語）
  シナリオ: 長野の支払例でブランドプロテクト費用を多く期待する
    前提 請求ファイル「scenarios/examples/nagano_seed_example.yaml」
    もし 判定する
    ならば 「ブランドプロテクト費用」の支払額は 8,572,500 円
"""

MISSPELT_JA = """# language: ja
機能: 損害区分の書き誤り
  シナリオ: 見舞品を見舞い品と書いた
    前提 nagano-privacy-2016 の標準的な請求
    かつ 損害は次のとおり:
      | 区分     | 金額    |
      | 見舞い品 | 100,000 |
    もし 判定する
    ならば 支払額合計は 0 円
"""


def test_a_failing_japanese_scenario_explains_itself_in_japanese(workspace):
    (workspace / "scenarios" / "features" / "nagano" / "zz_failing_ja.feature").write_text(FAILING_JA, encoding="utf-8")
    r = run(workspace, "-k", "zz_failing_ja or ブランドプロテクト費用を多く")
    out = r.stdout
    assert r.returncode != 0
    assert "scenarios/features/nagano/zz_failing_ja.feature:6" in out, out[-3000:]
    assert "期待: 「ブランドプロテクト費用保険金」の支払額は 8,572,500 円" in out
    assert "実際:   「ブランドプロテクト費用保険金」の支払額は 8,472,500 円" in out
    # the waterfall step that made the difference, named as the document names it
    assert "金額を削った算定段階:" in out and "自己負担額 10万円（1事故）: 8,572,500 → 8,472,500 (−100,000" in out
    assert "expected:" not in out


def test_a_misspelt_japanese_category_is_one_line(workspace):
    (workspace / "scenarios" / "features" / "nagano" / "zz_misspelt.feature").write_text(MISSPELT_JA, encoding="utf-8")
    r = run(workspace, "-k", "見舞い品")
    out = r.stdout
    assert r.returncode != 0
    hits = [line for line in out.splitlines() if "見舞い品" in line and "使える区分" in line]
    assert hits and "zz_misspelt.feature:5" in hits[0] and "見舞品" in hits[0], out[-3000:]
    assert "Traceback" not in out and "ClaimError" not in out and "site-packages" not in out
