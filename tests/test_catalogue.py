"""Issue 2: every number of the plan catalogue checked against the seed text itself.

The seed tables are parsed here independently of the catalogue files, so a typo in either shows.
"""
import re
from pathlib import Path

import pytest

from adjudicator.policy.catalogue import load_catalogue, value

SOURCES = Path(__file__).resolve().parent.parent / "rules" / "sources"
SEED_000 = next(SOURCES.glob("000_*.txt")).read_text(encoding="utf-8")
SEED_004 = next(SOURCES.glob("004_*.txt")).read_text(encoding="utf-8")
CAT = load_catalogue()


def yen(text: str) -> int:
    """'1,000万円' -> 10_000_000, '1億円' -> 100_000_000, '2億円', '29,380円' -> 29_380."""
    text = text.strip().replace(",", "")
    if m := re.fullmatch(r"(\d+)億円", text):
        return int(m.group(1)) * 100_000_000
    if m := re.fullmatch(r"(\d+)万円", text):
        return int(m.group(1)) * 10_000
    if m := re.fullmatch(r"(\d+)円", text):
        return int(m.group(1))
    raise ValueError(text)


def fukuoka_section(start: str, end: str) -> str:
    i = SEED_000.index(start)
    return SEED_000[i:SEED_000.index(end, i)]


ROW = re.compile(r"^([SP]\d+)\t(\S+)\t(\S+)\t(?:なし)?\t(\S+?円)(?:\t(\S+?円))?\t([SP]\d+)\t(\S+)\t(\S+)\t(?:なし)?\t(\S+?円)(?:\t(\S+?円))?$", re.M)


def seed_rows(section: str):
    for m in ROW.finditer(section):
        g = m.groups()
        yield g[0], yen(g[1]), yen(g[2]), [yen(x) for x in g[3:5] if x]
        yield g[5], yen(g[6]), yen(g[7]), [yen(x) for x in g[8:10] if x]


SECTIONS = {
    "clinic": fukuoka_section("<1> 一般医院・診療所", "<2> 病院の保険料"),
    "hospital": fukuoka_section("<2> 病院の保険料", "<3> 介護老人保健施設"),
    "care_facility": fukuoka_section("<3> 介護老人保健施設", "11. 自動セットサービス"),
}


@pytest.mark.parametrize("facility", list(SECTIONS))
def test_fukuoka_limits_and_premiums_match_000_s10(facility):
    prog = CAT["fukuoka-cyber-2025"]
    rows = list(seed_rows(SECTIONS[facility]))
    assert len(rows) == 20, rows  # S1..S5, S1000..S20000 and P alike
    for plan, liability, costs, premiums in rows:
        assert prog.plan_limit(plan, "liability", facility) == liability, plan
        assert prog.plan_limit(plan, "costs", facility) == costs, (plan, facility)
        node = prog.plans[plan]["premiums"][facility]
        if facility == "clinic":
            assert premiums == [value(node)], plan
        else:
            table = node["general_beds" if facility == "hospital" else "places"]
            assert premiums == [table[50], table[100]], plan


def test_dental_clinics_share_the_clinic_limits():
    prog = CAT["fukuoka-cyber-2025"]
    for plan in prog.plans:
        assert prog.plan_limit(plan, "costs", "dental_clinic") == prog.plan_limit(plan, "costs", "clinic")


@pytest.mark.parametrize("plan", ["S5000", "S10000", "S20000", "P5000", "P10000", "P20000"])
def test_clinic_cap_of_30_million_on_costs(plan):
    prog = CAT["fukuoka-cyber-2025"]
    assert prog.plan_limit(plan, "costs", "clinic") == 30_000_000
    assert prog.plan_limit(plan, "costs", "hospital") == prog.plan_limit(plan, "liability", "hospital") > 30_000_000


def test_fukuoka_period_mid_term_and_no_deductible():
    prog = CAT["fukuoka-cyber-2025"]
    assert "2025年5月5日 午後4時から 2026年5月5日 午後4時まで" in SEED_000
    assert str(prog.period_start) == "2025-05-05" and str(prog.period_end) == "2026-05-05"
    assert "毎月15日までの受付分は、受付日の翌月5日(15日過ぎの受付分は翌々月5日)" in SEED_000
    mt = prog.data["mid_term_enrolment"]
    assert (value(mt["cutoff_day"]), value(mt["start_day"])) == (15, 5)
    assert value(prog.data["deductible"]) == 0 and "自己負担額" in SEED_000
    assert "正式使用後10日以内" in SEED_000 and value(prog.data["bi_exclusions"]["new_software_window_days"]) == 10


def test_nagano_limits_match_004_s5():
    prog = CAT["nagano-privacy-2016"]
    courses = re.findall(r"^([ABCD])タイプ\t(\S+)\t1事故 (\S+)\t", SEED_004, re.M)
    assert len(courses) == 4
    for plan, liability, bp in courses:
        assert prog.plan_limit(plan, "liability", "hospital") == yen(liability)
        assert prog.plan_limit(plan, "brand_protect", "hospital") == yen(bp)


def test_nagano_premiums_match_004_table():
    prog = CAT["nagano-privacy-2016"]
    block = SEED_004[SEED_004.index("合計病床数100床の場合"):SEED_004.index("（※1）「損害賠償保険金」")]
    rows = [[yen(x) for x in re.findall(r"[\d,]+円", line)] for line in block.splitlines()]
    rows = [r for r in rows if len(r) == 4]
    assert len(rows) == 4
    for plan, row in zip("ABCD", rows):
        points = prog.plans[plan]["premiums"]["hospital"]["points"]
        assert [(p["general_beds"], p["other_beds"]) for p in points] == [(50, 50), (100, 0), (100, 100), (200, 0)]
        assert [p["value"] for p in points] == row, plan
        assert prog.plans[plan]["premiums"]["hospital"]["security_discount_percent"] == 15
    assert "セキュリティ割引」を15%適用" in SEED_004


def test_nagano_treatments_match_004_notes():
    t = CAT["nagano-privacy-2016"].data["treatments"]
    assert "てん補限度額の5%を限度" in SEED_004 and value(t["liability"][0]["percent"]) == 5
    assert "企業情報が漏えいした場合の第三者への損害賠償に関する補償は1,000万円となります。（免責金額5万円）" in SEED_004
    assert value(t["liability"][1]["cap"]) == 10_000_000 and value(t["liability"][1]["deductible"]) == 50_000
    assert "自己負担額1事故10万円、縮小てん補割合90%" in SEED_004
    assert [s["step"] for s in t["brand_protect"]] == ["coinsurance", "deductible"]  # the seed's §6 order
    assert value(t["brand_protect"][0]["percent"]) == 90 and value(t["brand_protect"][1]["amount"]) == 100_000


def test_nagano_period_and_mid_term():
    prog = CAT["nagano-privacy-2016"]
    assert "平成28年5月1日午後4時から1年間" in SEED_004 and "平成29年5月1日まで" in SEED_004
    assert str(prog.period_start) == "2016-05-01" and str(prog.period_end) == "2017-05-01"
    assert "毎月10日締切（保険料が着金すること）で翌月1日が中途加入日" in SEED_004
    mt = prog.data["mid_term_enrolment"]
    assert (value(mt["cutoff_day"]), value(mt["start_day"])) == (10, 1)


def test_jma_amounts_and_bands_match_the_seed():
    b = CAT["jma-support"].data["benefits"]
    assert "サイバー攻撃にて個人情報が漏えいした場合…10万円" in SEED_000
    assert "休業した日数×10万円(最大30万円)" in SEED_000
    assert "事由発生日が2023年6月1日以降の場合の金額です。事由発生日が2022年6月1日~2023年5月31日の場合は一律5万円" in SEED_000
    assert "初期対応を支援する費用として5万円" in SEED_000
    new, old = b["cyber_support"]["bands"]
    assert (value(new["base"]), value(new["closure_per_day"]), value(new["closure_max"])) == (100_000, 100_000, 300_000)
    assert str(new["from"]) == "2023-06-01" and new["to"] is None
    assert (str(old["from"]), str(old["to"]), value(old["closure_flat"])) == ("2022-06-01", "2023-05-31", 50_000)
    assert value(b["leak_support"]["amount"]) == 50_000


@pytest.mark.parametrize("prog,enrolled,start", [
    ("fukuoka-cyber-2025", None, "2025-05-05"),
    ("fukuoka-cyber-2025", "2025-03-01", "2025-05-05"),
    ("fukuoka-cyber-2025", "2025-07-15", "2025-08-05"),
    ("fukuoka-cyber-2025", "2025-07-16", "2025-09-05"),
    ("fukuoka-cyber-2025", "2025-12-20", "2026-02-05"),
    ("nagano-privacy-2016", "2016-06-10", "2016-07-01"),
    ("nagano-privacy-2016", "2016-06-11", "2016-08-01"),
    ("nagano-privacy-2016", "2016-11-30", "2017-01-01"),
])
def test_mid_term_cover_start(prog, enrolled, start):
    import datetime as dt
    d = dt.date.fromisoformat(enrolled) if enrolled else None
    assert str(CAT[prog].cover_start(d)) == start
