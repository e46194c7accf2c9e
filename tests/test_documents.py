"""Issues 17 and 15: the wording of the decision documents a claims department signs (limits named as
the seeds name them, the JMA scheme's 支給判定書, the refusal section, the deductible row, held lines,
no raw ids or code values outside the audit view), and the CLI's usability options."""
import json
import re

import pytest
import yaml

from adjudicator import adjudicate
from adjudicator.documents.render import limit_yen, render
from adjudicator.engine.examples import load_bases, merge
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

from support import EXAMPLES, ROOT, run_cli

BASES = load_bases()
FK, NG, JMA = BASES["fukuoka-cyber-2025"], BASES["nagano-privacy-2016"], BASES["jma-support"]
NAGANO_SEED = str(EXAMPLES / "nagano_seed_example.yaml")
CASES = {
    "nagano_seed": NAGANO_SEED,
    "fukuoka_seed": str(EXAMPLES / "fukuoka_seed_example.yaml"),
    "fukuoka_cut": merge(FK, {"policy": {"plan": "S1000"}, "losses": [
        {"category": "damages", "amount": 8_000_000}, {"category": "call_center", "amount": 5_000_000}]}),
    "fukuoka_war": merge(FK, {"incident": {"circumstances": ["war"]}}),
    "fukuoka_needs": merge(FK, {"policy": {"plan": "P3"}, "incident": {"evidence": None}}),
    "nagano_war": merge(NG, {"incident": {"circumstances": ["war"]}}),
    "jma_closure": merge(JMA, {"incident": {"closure_days": 2}}),
    "jma_refused": merge(JMA, {"incident": {"reports": []}}),
    "nagano_care": merge(NG, {"policy": {"facility": "care_facility"}}),
}


def doc(name, fmt="text", lang="ja", audit=False):
    src = CASES[name]
    cat, book = load_catalogue(), load_rulebook()
    return render(adjudicate(src), fmt=fmt, lang=lang, audit=audit, claim=parse_claim(src, cat), book=book,
                  catalogue=cat)


def test_limits_are_written_as_the_seeds_write_them():
    assert [limit_yen(n, "ja") for n in (10_000_000, 100_000_000, 150_000_000, 100_000, 112_500)] == \
        ["1,000万円", "1億円", "1億5,000万円", "10万円", "112,500円"]
    assert limit_yen(10_000_000, "en") == "¥10,000,000"


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_fukuoka_steps_name_the_limit_and_its_size(fmt):
    text = doc("fukuoka_cut", fmt)
    assert "①1損害賠償請求保険金額 1,000万円" in text
    assert "②1事故保険金額 1,000万円" in text
    assert "②総保険金額の残額（総保険金額 1,000万円 − 既払 0円）" in text
    assert "総保険金額（①②合算、000 §10 ※1）1,000万円" in text
    assert "1請求・1事故あたり限度額" not in text and "->" not in text


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_nagano_steps_use_the_seeds_terms(fmt):
    text = doc("nagano_seed", fmt)
    assert "期間中てん補限度額の残額（1億円 − 既払 0円）" in text
    assert "1件の個人情報につき てん補限度額の5%（500万円 × 500名）" in text
    assert "縮小てん補割合 90%" in text and "自己負担額 10万円（1事故）" in text
    assert "ブランドプロテクト費用 てん補限度額（1事故）1,000万円" in text
    assert "1名あたり限度額" not in text


def test_nagano_deductible_is_its_own_row_and_lines_match_the_seed_table():
    text = doc("nagano_seed")
    # 004 §6: each brand-protect line at 90%, then −100,000 once
    for category, claimed, computed in (("謝罪訪問", "125,000", "112,500"), ("社告・謝罪広告", "2,500,000", "2,250,000"),
                                         ("見舞品", "2,100,000", "1,890,000"), ("コンサルティング", "2,000,000", "1,800,000")):
        assert re.search(rf"#\d {category}: 請求額 {claimed}円 → 支払保険金額算定 {computed}円", text), category
    assert "自己負担額を控除: −100,000円" in text and "計 8,472,500円" in text
    assert "→ 12,500円" not in text  # the deductible is not taken out of the first line any more
    en = doc("nagano_seed", lang="en")
    assert "deductible taken: −¥100,000" in en and "Computed ¥112,500" in en


def test_the_audit_view_keeps_the_line_steps_as_recorded():
    text = doc("nagano_seed", audit=True)
    assert "112,500円 → 12,500円" in text  # the decision JSON's own line steps, code values included
    assert "percent=90" in text


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_jma_support_is_a_support_decision_not_insurance(fmt):
    text = doc("jma_closure", fmt)
    assert "一時支援金 支給判定書" in text and "支給対象" in text and "支援金額" in text
    for word in ("保険金支払判定書", "加入タイプ", "保険制度", "補償対象", "保険金をお支払いします"):
        assert word not in text, word
    assert "0120-179-066" in text and "med.or.jp" in text  # the seed's own contact for the scheme
    assert "休業 2日 × 10万円（最大30万円）の追加支払" in text and "200,000円（計 300,000円）" in text
    en = doc("jma_closure", fmt, "en")
    assert "Support payment decision" in en and "closure payment per day: ¥300,000" not in en


def test_jma_refusal_says_why_no_support_is_paid():
    text = doc("jma_refused")
    assert "一時支援金を支給できない理由" in text and "支給対象外" in text
    assert "保険金" not in text.split("== お問い合わせ先")[0].split("== 支給の要件")[0]


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_refusal_gives_its_reasons_once_with_dates_and_recourse(fmt, lang):
    text = doc("fukuoka_war", fmt, lang)
    decision = adjudicate(CASES["fukuoka_war"])
    exclusion = next(r for c in decision["coverages"].values() for r in c["reasons"] if r["rule"] == "FK-EXC-COMMON-11-WAR")
    heading = "保険金をお支払いできない理由" if lang == "ja" else "Why no insurance payment can be made"
    assert text.count(heading) == 1
    assert text.count(exclusion["text"] if lang == "ja" else exclusion["text_en"]) == 1  # stated once, not seven times
    assert ("§15【共通】⑪ア" if lang == "ja" else "§15 [common]⑪ア") in text  # the pamphlet's own heading
    assert "2025-09-01" in text and "2025-05-05" in text  # the dates the decision turns on
    assert "0570-022808" in text and ("そんぽADRセンター" in text or "Sonpo ADR Center" in text)
    assert "30日以内に支払われます" not in text and "within 30 days" not in text  # no promise of payment
    for name in ("nagano_war",):
        assert "0570-022808" in doc(name, fmt, lang) and "03-4332-5241" in doc(name, fmt, lang)


def test_unclaimed_coverages_are_not_decisions():
    text = doc("fukuoka_cut")
    assert "情報漏えい対応費用 [請求なし]" in text and "利益損害（オプション） [該当なし]" in text
    assert "サイバー攻撃対応費用 [該当なし（原因調査は事故対応特別費用で査定）]" in text
    assert "この補償を発動させる条件に該当する事実がありません" not in text
    assert "[補償対象]  お支払額: 0円" not in text


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_missing_facts_name_accepted_values_and_amount_on_hold(fmt):
    text = doc("fukuoka_needs", fmt)
    # the field and its values by their Japanese labels, each with the claim file's code (issue 15)
    assert "客観的明白性の措置（" in text and "を判断するには「客観的明白性の措置」が必要ですが、請求ファイルにありません。" in text
    assert "保険会社への書面通知（insurer_notified）、公表（public_announcement）" in text
    assert "を判断するには incident.evidence が必要" not in text
    # on the leak-only plan only the leak-response costs wait for the 注1 evidence (issue 10 item 3)
    assert "保留中の請求額: 700,000円" in text
    assert "お支払額合計（暫定" in text
    assert "保留（追加情報の確認待ち）" in text and "補償が支払対象外" not in text
    assert "上記のとおり保険金をお支払いします" not in text


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_raw_ids_or_code_values_outside_the_audit_view(name, lang):
    text = doc(name, "text", lang)
    assert not re.search(r"\b(FK|NG|JMA)-[A-Z]{2,}", text), re.findall(r".{20}\b(?:FK|NG|JMA)-[A-Z]{2,}.{10}", text)
    for raw in ("None", "True", "False", "['", "[割合(%)", "percent=", "pool=", ": none", "default (", " -> "):
        assert raw not in text, (raw, name)
    if lang == "ja":
        assert "->" not in text
    audit = doc(name, "text", lang, audit=True)
    assert re.search(r"\b(FK|NG|JMA)-[A-Z]{2,}", audit)  # the audit view names the rules


def test_labels_per_programme_and_year():
    text = doc("nagano_care")
    assert "施設区分: 介護老人保健施設" in text and "介護医療院" not in text
    book = load_rulebook()
    assert "保険契約者または記名被保険者" in book.rules_by_id["FK-EXC-COMMON-1-INTENT"].text.ja
    retro = book.rules_by_id["NG-EXC-GEN-6-RETROACTIVE"].text.ja
    assert "ブランドプロテクト費用" in retro


def test_no_mid_term_wording_without_a_mid_term_enrolment():
    claim = merge(FK, {"incident": {"occurred_on": "2025-04-01", "discovered_on": "2025-04-02"}})
    CASES["fk_before"] = claim
    text = doc("fk_before")
    assert "中途加入の場合" not in text and "中途加入による補償開始日" not in text  # (the clause "§14 中途加入" stays)
    assert "補償の開始日より前" in text and "mid-term" not in doc("fk_before", lang="en")
    CASES["fk_mid"] = merge(claim, {"policy": {"enrolled_on": "2025-06-10"}, "incident": {
        "occurred_on": "2025-07-20", "discovered_on": "2025-07-21", "claim_made_on": "2025-07-25"}})
    assert "中途加入による補償開始日: 2025-07-05 (加入受付日 2025-06-10)" in doc("fk_mid")


def test_the_leak_only_plan_says_which_cost_coverages_it_has():
    text = doc("fukuoka_needs", audit=True)
    assert "情報漏えい限定プランには事故対応特別費用" not in text
    assert "②事故対応特別費用の欄の金額" in text


def test_the_audit_trace_is_in_stage_order_with_lines_from_1():
    text = doc("nagano_seed", audit=True)
    trace = text.split("== 発火したルール")[1].split("== ")[0]
    rules = re.findall(r"^\d+\. (\S+)", trace, flags=re.M)
    assert rules.index("NG-TRIG-LIABILITY") < rules.index("NG-MAP-LIABILITY") < rules.index("NG-DUTY-GENERAL")
    assert "項目 #1" in trace and "line.index=0" not in trace
    assert "=None" not in trace and "=True" not in trace and "['" not in trace


# ------------------------------------------------------------------------------------------ CLI
def test_document_header_carries_handler_date_and_policy_number(tmp_path):
    claim = yaml.safe_load(open(NAGANO_SEED, encoding="utf-8"))
    claim["policy"]["policy_number"] = "NG-CERT-42"
    claim["policy"]["insured_name"] = "医療法人 見本会"
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump(claim, allow_unicode=True), encoding="utf-8")
    r = run_cli("adjudicate", str(f), "--format", "text", "--handler", "査定課 山田", "--decided-on", "2026-12-01")
    assert r.returncode == 0, r.stderr
    for words in ("証券番号／加入者証番号: NG-CERT-42", "記名被保険者: 医療法人 見本会", "判定日: 2026-12-01",
                  "判定者: 査定課 山田", "事故発生日: 2016-06-10", "損害賠償請求日: 2016-09-01",
                  "長野支店 長野支社", "026-235-8046"):
        assert words in r.stdout, words


def test_prior_payments_from_the_ledger_name_the_earlier_claims(tmp_path):
    ledger = tmp_path / "l.sqlite"
    first = merge(FK, {"claim_id": "C1", "policy": {"plan": "S1", "policy_number": "P-1"},
                       "losses": [{"category": "forensic_investigation", "amount": 1_000_000}]})
    second = merge(first, {"claim_id": "C2"})
    for c in (first, second):
        f = tmp_path / f"{c['claim_id']}.json"
        f.write_text(json.dumps(c, default=str), encoding="utf-8")
    assert run_cli("adjudicate", str(tmp_path / "C1.json"), "--ledger", str(ledger)).returncode == 0
    r = run_cli("adjudicate", str(tmp_path / "C2.json"), "--ledger", str(ledger), "--format", "text", "--audit")
    assert r.returncode == 0, r.stderr
    assert "先行事故: 事故番号 C1 (台帳記録 #1), お支払額 1,000,000円" in r.stdout
    assert "台帳に記録された同一証券・同一保険期間の先行事故" in r.stdout
    given = r.stdout.split("== 入力された請求ファイル ==")[1]
    assert "prior_payments" not in given  # the claim file as given, not as adjudicated


def test_version_and_help():
    r = run_cli("--version")
    assert r.returncode == 0 and re.match(r"adjudicator \d+\.\d+\.\d+ \(engine", r.stdout)
    top = run_cli("--help").stdout
    for command in ("adjudicate", "audit", "replay", "batch", "diff", "plans", "quote", "rules", "schema", "template"):
        assert re.search(rf"^\s+{command}\s", top, flags=re.M), command
    sub = run_cli("adjudicate", "--help").stdout
    assert "(default: json)" in sub and "standard input" in sub and "--handler" in sub


def test_claim_from_standard_input():
    text = open(NAGANO_SEED, encoding="utf-8").read()
    r = run_cli("adjudicate", "-", stdin=text)
    assert r.returncode == 0, r.stderr and json.loads(r.stdout)["total_payable"] == 16_347_500
    r = run_cli("adjudicate", "-", stdin=json.dumps(yaml.safe_load(text), default=str))
    assert r.returncode == 0 and json.loads(r.stdout)["total_payable"] == 16_347_500
    r = run_cli("adjudicate", "-", stdin="programme: [oops\n")
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("programme", ["fukuoka-cyber-2025", "nagano-privacy-2016", "jma-support"])
def test_template_is_a_valid_commented_claim_file(programme):
    r = run_cli("template", programme)
    assert r.returncode == 0 and r.stdout.startswith("# Claim file for")
    assert "#" in r.stdout and "insurer_notified" in r.stdout
    out = run_cli("adjudicate", "-", stdin=r.stdout)
    assert out.returncode == 0, out.stderr
    decision = json.loads(out.stdout)
    assert decision["programme"] == programme and decision["total_payable"] > 0
    assert run_cli("template", "tokyo").returncode == 2


def test_schema_describes_the_contract():
    r = run_cli("schema", "claim")
    schema = json.loads(r.stdout)
    assert r.returncode == 0 and schema["$schema"].endswith("2020-12/schema")
    assert set(schema["properties"]) == {"programme", "claim_id", "policy", "incident", "losses", "prior_payments",
                                        "payment"}  # payment: the desk's 000 §18 dates (issue 12)
    assert schema["additionalProperties"] is False
    assert "fukuoka-cyber-2025" in json.dumps(schema) and "ransomware" in json.dumps(schema)


def test_errors_in_japanese_under_lang_ja(tmp_path):
    claim = merge(NG, {"incident": {"occurred_on": "22/08/2025", "cause": "hack"},
                       "losses": [{"category": "damage", "amount": 1.5}]})
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(claim, default=str), encoding="utf-8")
    r = run_cli("adjudicate", str(f), "--lang", "ja")
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert "incident.occurred_on: 日付（YYYY-MM-DD）で指定してください（指定された値: '22/08/2025'）" in lines
    assert any(l.startswith("incident.cause: 次のいずれかを指定してください: cyber_attack,") for l in lines)
    assert any(l.startswith("losses[0].amount: 整数で指定してください") for l in lines)
    for leak in ("Value error", "Input should", "got '22/08/2025' (got", "expected"):
        assert leak not in r.stderr, leak
    en = run_cli("adjudicate", str(f))
    assert "incident.occurred_on: expected a date YYYY-MM-DD, got '22/08/2025'" in en.stderr
    assert "(got '22/08/2025') (got" not in en.stderr and "Value error" not in en.stderr


def test_a_yaml_syntax_error_is_one_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("programme: nagano-privacy-2016\npolicy: {plan: D\nincident:\n  x: 1\n", encoding="utf-8")
    for lang in ([], ["--lang", "ja"]):
        r = run_cli("adjudicate", str(f), *lang)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "line 3, column 9" in r.stderr or "3行目 9文字目" in r.stderr


def test_sample_claims_under_docs_adjudicate():
    for f in sorted((ROOT / "docs" / "samples" / "claims").glob("*.yaml")):
        adjudicate(str(f))
    assert (ROOT / "docs" / "CLAIM_FILE.md").read_text(encoding="utf-8").startswith(
        "# The claim file and the decision: the project's public contract")


def test_a_nagano_clinic_claim_asks_to_confirm_the_certificate():
    CASES["nagano_clinic"] = merge(NG, {"policy": {"facility": "clinic"}})
    decision = adjudicate(CASES["nagano_clinic"])
    assert {c["status"] for c in decision["coverages"].values()} == {"needs_information"}
    assert [n["field"] for n in decision["needs_information"]] == ["policy.facility"]
    text = doc("nagano_clinic")
    assert "要確認" in text and "補償対象外" not in text and "お支払額合計（暫定" in text
    assert "一般医院・診療所（clinic）、歯科医院・診療所（dental_clinic）、病院（hospital）、介護老人保健施設（care_facility）" in text


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    from adjudicator.cli import main
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_rules_may_follow_the_command_and_a_missing_rulebook_is_bad_input(capsys, monkeypatch):
    rules = str(ROOT / "rules")
    before = _cli(capsys, "--rules", rules, "adjudicate", NAGANO_SEED)
    after = _cli(capsys, "adjudicate", NAGANO_SEED, "--rules", rules)
    assert before[0] == after[0] == 0 and before[1] == after[1] and json.loads(after[1])["total_payable"] == 16_347_500
    # after the command wins over before it; a directory that is not there is exit 2 naming where it came from
    assert _cli(capsys, "--rules", "/no/such/rules", "adjudicate", NAGANO_SEED, "--rules", rules)[0] == 0
    code, out, err = _cli(capsys, "plans", "nagano-privacy-2016", "--rules", "/no/such/rules")
    assert (code, out, err) == (2, "", "--rules: no rulebook directory at '/no/such/rules'\n")
    monkeypatch.setenv("ADJUDICATOR_RULES", "/no/such/env")
    code, out, err = _cli(capsys, "adjudicate", NAGANO_SEED)
    assert (code, out, err) == (2, "", "$ADJUDICATOR_RULES: no rulebook directory at '/no/such/env'\n")


def test_audit_json_adds_the_claim_as_given_and_the_ledger_records(tmp_path, capsys):
    plain = _cli(capsys, "adjudicate", NAGANO_SEED)[1]
    code, out, _ = _cli(capsys, "adjudicate", NAGANO_SEED, "--audit", "--format", "json")
    audit = json.loads(out)
    assert code == 0 and {k: v for k, v in audit.items() if k != "audit"} == json.loads(plain)
    given = json.loads(json.dumps(yaml.safe_load(open(NAGANO_SEED, encoding="utf-8")), default=str))
    assert audit["audit"] == {"claim_as_given": given, "ledger_seq": None, "prior_records": []}
    ledger = str(tmp_path / "l.sqlite")
    first = merge(FK, {"claim_id": "C1", "policy": {"plan": "S1", "policy_number": "P-1"},
                       "losses": [{"category": "forensic_investigation", "amount": 1_000_000}]})
    for c in (first, merge(first, {"claim_id": "C2"})):
        (tmp_path / f"{c['claim_id']}.json").write_text(json.dumps(c, default=str), encoding="utf-8")
    assert _cli(capsys, "adjudicate", str(tmp_path / "C1.json"), "--ledger", ledger)[0] == 0
    code, out, err = _cli(capsys, "adjudicate", str(tmp_path / "C2.json"), "--ledger", ledger, "--audit", "--format", "json")
    second = json.loads(out)
    assert code == 0, err
    assert second["audit"]["ledger_seq"] == 2 and second["audit"]["claim_as_given"]["claim_id"] == "C2"
    assert second["audit"]["prior_records"] == [{"seq": 1, "claim_id": "C1", "paid": 1_000_000}]
    assert "prior_payments" not in second["audit"]["claim_as_given"]  # as given, not as adjudicated


def test_readjudicate_alone_records_again_in_the_default_ledger(tmp_path, capsys, monkeypatch):
    ledger = tmp_path / "default.sqlite"
    monkeypatch.setenv("ADJUDICATOR_LEDGER", str(ledger))
    claim = merge(NG, {"claim_id": "R1", "policy": {"policy_number": "NG-R1"}})
    f = tmp_path / "r1.json"
    f.write_text(json.dumps(claim, default=str), encoding="utf-8")
    assert _cli(capsys, "adjudicate", str(f), "--record")[0] == 0
    code, out, err = _cli(capsys, "adjudicate", str(f), "--record")
    assert code == 2 and out == "" and "R1" in err and "--readjudicate" in err
    assert _cli(capsys, "adjudicate", str(f), "--readjudicate")[0] == 0
    from adjudicator.ledger import Ledger
    with Ledger(str(ledger)) as led:
        assert [r["claim_id"] for r in led.list_records()] == ["R1", "R1"]


# --- wording fixes: one register, the JMA scheme's own words, English brackets, why-not for the auditor ---
@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_the_insurer_speaks_in_one_register(fmt):
    text = doc("fukuoka_needs", fmt)
    assert "保険金は請求手続完了日から原則30日以内にお支払いします。" in text
    assert "支払われます" not in text and "支払われません" not in text and "支払われない理由" not in text


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_jma_support_speaks_of_support_paid_not_insurance(fmt):
    text = doc("jma_closure", fmt)
    assert "10万円と休業日数に応じた額を支給します。" in text
    assert "既に支給した一時支援金はありません（請求ファイル・台帳とも記録なし）" in text
    assert "既払保険金" not in text and "支払います" not in text
    refused = doc("jma_refused", fmt)
    assert "厚生労働省または日本医師会への届出がないため、サイバー攻撃一時支援金は支給できません。" in refused
    assert "支払われません" not in refused


def test_unclaimed_jma_support_asks_to_confirm_membership_and_is_a_fixed_amount():
    text = doc("fukuoka_war", "md")
    assert "日本医師会A①会員であるかの確認が必要です。" in text
    assert "policy.jma_member）がありません" not in text
    assert "見込額: 定額（要件の確認後に支給額が決まります）" in text
    assert "サイバー攻撃一時支援金は支払われません" not in text and "一時支援金の支給には" in text


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_english_running_totals_use_ascii_brackets(fmt):
    en = doc("jma_closure", fmt, "en")
    assert "¥200,000 (Total ¥300,000)" in en and "（Total" not in en
    assert "200,000円（計 300,000円）" in doc("jma_closure", fmt)


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_what_the_facts_would_have_to_be_is_for_the_audit_view_only(fmt, lang):
    words = load_rulebook().ui["why_not"]["facts"][lang]
    assert words not in doc("fukuoka_war", fmt, lang)
    assert words in doc("fukuoka_war", fmt, lang, audit=True)
    assert ("「戦争・内乱」を除く" if lang == "ja" else "without") in doc("fukuoka_war", fmt, lang, audit=True)


def test_a_bool_field_accepts_true_or_false():
    from adjudicator.documents.render import _accepted
    assert _accepted("policy.jma_member") == ("bool", [])
    assert _accepted("incident.leak.corporate_info") == ("bool", [])


def test_a_missing_bool_or_line_field_is_named_by_its_label():
    CASES["jma_member_unknown"] = merge(JMA, {"policy": {"jma_member": None}})
    text = doc("jma_member_unknown")
    assert "日本医師会A①会員であるかの確認が必要です。" in text and "受け付ける値: true または false" in text
    CASES["ng_persons"] = merge(NG, {"losses": [{"category": "mental_distress", "amount": 1_000_000}]})
    text = doc("ng_persons")
    if "losses[0].persons" in text:
        assert "項目 #1（" in text and "の人数" in text


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_the_leak_only_plan_scope_is_in_the_policyholder_document(fmt):
    text = doc("fukuoka_needs", fmt)
    assert text.count("その保険金額は②事故対応特別費用の欄の金額です（000 §10）") == 1
    assert "このプランの補償にはありません（注記参照）" in text
    assert "その保険金額は②事故対応特別費用の欄の金額です" not in doc("fukuoka_seed", fmt)  # all-risk plans: no note


def test_needs_texts_name_no_field_paths_in_japanese():
    book = load_rulebook()
    for r in book.rules:
        if r.effect.kind == "need":
            assert not re.search(r"\b(incident|policy|losses)(\[\])?\.[a-z_]", r.text.ja), (r.id, r.text.ja)
    assert book.rules_by_id["FK-CAR-ATTACK-STATUS-NEEDED"].text.ja == \
        "原因がサイバー攻撃とされていますが、攻撃が確認済みか・おそれにとどまるかの記載がありません。"


def _cuts_section(name: str, lang: str) -> str:
    text = doc(name, "text", lang)
    head = "== 限度額による削減 ==" if lang == "ja" else "== What the limits cut =="
    return text.split(head, 1)[1].split("\n==", 1)[0]


CASES.update({
    "nagano_per_person": merge(NG, {"losses": [{"category": "mental_distress", "amount": 9_000_000, "persons": 1}]}),
    "nagano_corporate": merge(NG, {"incident": {"leak": {"corporate_info": True}},
                                   "losses": [{"category": "corporate_damages", "amount": 11_950_000}]}),
    "jma_closure_max": merge(JMA, {"incident": {"closure_days": 6}}),
})


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("name,step", [("nagano_per_person", "per_person_cap"), ("nagano_corporate", "sublimit"),
                                       ("jma_closure_max", "closure_payment")])
def test_the_limits_section_lists_a_coverages_own_limits_not_only_shared_caps(name, step, lang):
    """Round-4 check (N01, N12, J11): 「限度額による削減はありません」 was printed under a per-person cap, the
    corporate-information sublimit and the support's 30万円 maximum (limits_applied holds shared caps only)."""
    decision = adjudicate(CASES[name])
    steps = [s for ln in decision["lines"] for s in ln.get("steps", [])] if step == "per_person_cap" else \
        [s for c in decision["coverages"].values() for s in c["steps"]]   # a sublimit: the coverage's summary
    [st] = [s for s in steps if s["step"] == step and (s.get("cut", 0) > 0 or step == "closure_payment")]
    cut = st["cut"] if step != "closure_payment" else st["days"] * st["per_day"] - st["amount"]
    assert cut > 0
    section = _cuts_section(name, lang)
    shown = f"{cut:,}円" if lang == "ja" else f"¥{cut:,}"
    assert shown in section, section
    assert "限度額による削減はありません" not in section and "No limit cut anything" not in section


def test_the_limits_section_says_so_when_nothing_was_cut():
    assert "限度額による削減はありません。" in _cuts_section("jma_closure", "ja")
