"""DOMAIN §4: premiums quoted only at the tabulated points; Nagano mid-term premium pro rata."""
import json

import pytest

from support import run_cli


@pytest.mark.parametrize("args,payable", [
    (["fukuoka-cyber-2025", "S3", "--facility", "clinic"], 44_610),
    (["fukuoka-cyber-2025", "P20000", "--facility", "clinic"], 67_200),
    (["fukuoka-cyber-2025", "S5000", "--facility", "hospital", "--general-beds", "100"], 493_580),
    (["fukuoka-cyber-2025", "P1", "--facility", "care_facility", "--places", "50"], 17_780),
    (["nagano-privacy-2016", "D", "--facility", "hospital", "--general-beds", "200"], 410_590),
    (["nagano-privacy-2016", "A", "--facility", "hospital", "--general-beds", "50", "--other-beds", "50"], 40_000),
    # paid 2016-06-10 -> cover from 2016-07-01 -> 10 of 12 months: 40,000 × 10 / 12 = 33,333.33 -> 33,333
    (["nagano-privacy-2016", "A", "--facility", "hospital", "--general-beds", "50", "--other-beds", "50",
      "--enrolled-on", "2016-06-10"], 33_333),
    (["nagano-privacy-2016", "B", "--facility", "hospital", "--general-beds", "100",
      "--enrolled-on", "2017-03-05"], 113_260 * 1 // 12),
])
def test_tabulated_points(args, payable):
    r = run_cli("quote", *args, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["payable"] == payable


@pytest.mark.parametrize("args", [
    ["fukuoka-cyber-2025", "S3", "--facility", "hospital", "--general-beds", "80"],
    ["fukuoka-cyber-2025", "S3", "--facility", "dental_clinic"],
    ["nagano-privacy-2016", "C", "--facility", "care_facility", "--places", "100"],
])
def test_other_points_are_ask_the_agent(args):
    r = run_cli("quote", *args)
    assert r.returncode == 0 and "ask the agent" in r.stdout and "—" in r.stdout


def test_bad_quote_input():
    r = run_cli("quote", "jma-support", "X", "--facility", "clinic")
    assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("programme:")
    r = run_cli("quote", "fukuoka-cyber-2025", "Z9", "--facility", "clinic")
    assert r.returncode == 2 and r.stderr.startswith("plan:")
