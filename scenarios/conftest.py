"""The underwriters' step library (English and Japanese) and the rule-coverage report.

Each scenario builds a claim file from a programme's ordinary claim (rules/test_bases.yaml) or a
claim file, changes the facts it talks about, adjudicates it through the public API, and checks
outcomes. Words may be contract ids or the Japanese terms of scenarios/vocabulary.yaml.

After the run, every rule of rules/ must have fired in some scenario and stayed silent in some
scenario of its programme; otherwise the session fails and the report names the rules.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from pytest_bdd import given, parsers, then, when

from adjudicator import adjudicate
from adjudicator.rulebook import load_rulebook
from adjudicator.verify import drop_path, load_bases

HERE = Path(__file__).resolve().parent
VOCAB = yaml.safe_load((HERE / "vocabulary.yaml").read_text(encoding="utf-8"))
_CATEGORY_JA = {v["ja"]: k for k, v in load_rulebook().ui["categories"].items()}

# rule id -> set of programmes where it fired / stayed silent, filled by every adjudication
FIRED: dict[str, set] = {}
SILENT: dict[str, set] = {}
RUNS = {"count": 0}


def word(kind: str, text: str) -> str:
    text = text.strip().strip("「」\"")
    return VOCAB.get(kind, {}).get(text, text)


def words(kind: str, text: str) -> list[str]:
    return [word(kind, w) for w in re.split(r"[,、]\s*", text.strip()) if w.strip()]


def yen(text: str) -> int:
    return int(text.replace(",", "").replace("円", "").replace("¥", "").strip())


def set_path(claim: dict, path: str, val) -> None:
    node = claim
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = val


class Ctx:
    def __init__(self) -> None:
        self.claim: dict = {}
        self.decision: dict | None = None

    def incident(self) -> dict:
        return self.claim.setdefault("incident", {})


@pytest.fixture
def ctx() -> Ctx:
    return Ctx()


def explain_failure(ctx: Ctx, expected: str, actual: str) -> str:
    d = ctx.decision or {}
    lines = [f"expected: {expected}", f"actual:   {actual}", "trace:"]
    lines += [f"  {t['rule']} [{t['effect']} {','.join(t['targets'])}] ({t['clause']}) on {t['fired_on']}"
              for t in d.get("trace", [])]
    lines.append("coverages: " + ", ".join(f"{c}={v['status']}:{v['payable']}" for c, v in d.get("coverages", {}).items()))
    if d.get("needs_information"):
        lines.append("needs: " + ", ".join(n["field"] for n in d["needs_information"]))
    return "\n".join(lines)


def check(ctx: Ctx, ok: bool, expected: str, actual: str) -> None:
    if not ok:
        pytest.fail(explain_failure(ctx, expected, actual), pytrace=False)


# ---------------------------------------------------------------- Given: the policy
@given(parsers.parse("a typical {programme} claim"))
@given(parsers.parse("{programme} の標準的な請求"))
def typical_claim(ctx: Ctx, programme: str) -> None:
    ctx.claim = copy.deepcopy(load_bases()[word("programme", programme)])


@given(parsers.parse('the claim file "{path}"'))
@given(parsers.parse("請求ファイル「{path}」"))
def claim_file(ctx: Ctx, path: str) -> None:
    ctx.claim = yaml.safe_load((HERE.parent / path).read_text(encoding="utf-8"))


@given(parsers.parse("the plan is {plan}"))
@given(parsers.parse("加入タイプは {plan}"))
def plan(ctx: Ctx, plan: str) -> None:
    ctx.claim["policy"]["plan"] = plan.strip()


@given(parsers.parse("the facility is a {facility}"))
@given(parsers.parse("施設は {facility}"))
def facility(ctx: Ctx, facility: str) -> None:
    ctx.claim["policy"]["facility"] = word("facility", facility)


@given(parsers.parse("the lost-profit option limit is {amount} yen"))
@given(parsers.parse("利益損害オプションの限度額は {amount} 円"))
def option_limit(ctx: Ctx, amount: str) -> None:
    ctx.claim["policy"]["lost_profit_limit"] = yen(amount)


@given(parsers.parse("the application was received on {date}"))
@given(parsers.parse("加入依頼書の受付日は {date}"))
def enrolled(ctx: Ctx, date: str) -> None:
    ctx.claim["policy"]["enrolled_on"] = date.strip()


@given(parsers.parse("the retroactive date is {date}"))
@given(parsers.parse("遡及日は {date}"))
def retroactive(ctx: Ctx, date: str) -> None:
    ctx.claim["policy"]["retroactive_date"] = date.strip()


@given(parsers.re(r"the facility (?P<neg>is|is not) run by a JMA A① member"))
@given(parsers.re(r"日本医師会A①会員(?P<neg>である|ではない)"))
def jma_member(ctx: Ctx, neg: str) -> None:
    ctx.claim["policy"]["jma_member"] = neg in ("is", "である")


@given(parsers.parse("{amount} yen was already paid under {pool}"))
@given(parsers.parse("{pool} の既払保険金は {amount} 円"))
def prior(ctx: Ctx, amount: str, pool: str) -> None:
    ctx.claim.setdefault("prior_payments", {})[word("pool", pool)] = yen(amount)


# ---------------------------------------------------------------- Given: the incident
@given(parsers.parse("the incident occurred on {occurred} and was discovered on {discovered}"))
@given(parsers.parse("事故は {occurred} に発生し {discovered} に発見された"))
def dates(ctx: Ctx, occurred: str, discovered: str) -> None:
    ctx.incident().update(occurred_on=occurred.strip(), discovered_on=discovered.strip())


@given(parsers.parse("damages were first claimed on {date}"))
@given(parsers.parse("損害賠償請求は {date} になされた"))
def claimed_on(ctx: Ctx, date: str) -> None:
    ctx.incident()["claim_made_on"] = date.strip()


@given(parsers.parse("the cause is {cause}"))
@given(parsers.parse("原因は {cause}"))
def cause(ctx: Ctx, cause: str) -> None:
    c = word("cause", cause)
    ctx.incident()["cause"] = c
    if c != "cyber_attack":
        ctx.incident().pop("attack", None)


@given(parsers.parse("the attack is {status}"))
@given(parsers.parse("サイバー攻撃の状況は {status}"))
def attack_status(ctx: Ctx, status: str) -> None:
    ctx.incident().setdefault("attack", {})["status"] = word("attack_status", status)


@given("the attack was state-sponsored")
@given("国家関与型のサイバー攻撃である")
def state_sponsored(ctx: Ctx) -> None:
    ctx.incident().setdefault("attack", {})["state_sponsored"] = True


@given(parsers.parse("the suspected attack was reported by {channel}"))
@given(parsers.parse("発見の経路は {channel}"))
def channel(ctx: Ctx, channel: str) -> None:
    ctx.incident()["discovered_by"] = word("channel", channel)


@given(parsers.parse("the leak is {status}"))
@given(parsers.parse("情報漏えいは {status}"))
def leak_status(ctx: Ctx, status: str) -> None:
    ctx.incident().setdefault("leak", {})["status"] = word("leak_status", status)


@given(parsers.parse("{n:d} persons' personal information leaked"))
@given(parsers.parse("漏えいした個人情報は {n:d} 件"))
def records(ctx: Ctx, n: int) -> None:
    ctx.incident().setdefault("leak", {})["personal_records"] = n


@given(parsers.parse("the leaked data concern {subjects}"))
@given(parsers.parse("漏えいした情報の本人は {subjects}"))
def subjects(ctx: Ctx, subjects: str) -> None:
    ctx.incident().setdefault("leak", {})["subjects"] = words("subject", subjects)


@given("corporate information leaked")
@given("企業情報が漏えいした")
def corporate(ctx: Ctx) -> None:
    ctx.incident().setdefault("leak", {})["corporate_info"] = True


@given("the information had been obtained by deceit")
@given("情報は不正な手段により取得されていた")
def deceit(ctx: Ctx) -> None:
    ctx.incident().setdefault("leak", {})["obtained_by_deceit"] = True


@given(parsers.parse("the leak was made evident by {evidence}"))
@given(parsers.parse("客観的明白性の措置は {evidence}"))
def evidence(ctx: Ctx, evidence: str) -> None:
    ctx.incident()["evidence"] = words("evidence", evidence)


@given("nothing made the leak evident")
@given("客観的明白性の措置はない")
def no_evidence(ctx: Ctx) -> None:
    ctx.incident()["evidence"] = []


@given(parsers.parse('the act "{act}" was by the {actor}'))
@given(parsers.parse("「{act}」の行為者は {actor}"))
def act(ctx: Ctx, act: str, actor: str) -> None:
    ctx.incident().setdefault("acts", {})[word("act", act)] = word("actor", actor)


@given(parsers.parse("the circumstances include {flags}"))
@given(parsers.parse("事故の状況に {flags} がある"))
def circumstances(ctx: Ctx, flags: str) -> None:
    ctx.incident()["circumstances"] = words("circumstance", flags)


@given(parsers.parse("the new software had been in production for {n:d} days"))
@given(parsers.parse("新しいソフトウェアの正式使用から {n:d} 日"))
def software(ctx: Ctx, n: int) -> None:
    ctx.incident()["software_days_in_production"] = n


@given(parsers.parse("the facility closed for {n:d} days"))
@given(parsers.parse("休業日数は {n:d} 日"))
def closure(ctx: Ctx, n: int) -> None:
    ctx.incident()["closure_days"] = n


@given(parsers.parse("reports were made to {reports}"))
@given(parsers.parse("届出・報告は {reports}"))
def reports(ctx: Ctx, reports: str) -> None:
    ctx.incident()["reports"] = words("report", reports)


@given("no report was made")
@given("届出・報告はない")
def no_reports(ctx: Ctx) -> None:
    ctx.incident()["reports"] = []


@given(parsers.parse("the claim does not say {field}"))
@given(parsers.parse("請求ファイルに {field} がない"))
def unknown(ctx: Ctx, field: str) -> None:
    ctx.claim = drop_path(ctx.claim, field.strip())


@given("the losses are:")
@given("損害は次のとおり:")
def losses(ctx: Ctx, datatable) -> None:
    head = [h.strip() for h in datatable[0]]
    names = {"区分": "category", "金額": "amount", "人数": "persons"}
    out = []
    for row in datatable[1:]:
        rec = {names.get(h, h): v.strip() for h, v in zip(head, row)}
        line = {"category": _CATEGORY_JA.get(rec["category"], rec["category"]), "amount": yen(rec["amount"])}
        if rec.get("persons"):
            line["persons"] = int(rec["persons"])
        out.append(line)
    ctx.claim["losses"] = out


@given("no losses are claimed")
@given("損害の請求はない")
def no_losses(ctx: Ctx) -> None:
    ctx.claim["losses"] = []


# ---------------------------------------------------------------- When
@when("the claim is adjudicated")
@when("判定する")
def run(ctx: Ctx) -> None:
    ctx.decision = adjudicate(ctx.claim)
    programme = ctx.decision["programme"]
    fired = {t["rule"] for t in ctx.decision["trace"]}
    RUNS["count"] += 1
    for rule in load_rulebook().for_programme(programme):
        (FIRED if rule.id in fired else SILENT).setdefault(rule.id, set()).add(programme)


# ---------------------------------------------------------------- Then
def _coverage(ctx: Ctx, name: str) -> tuple[str, dict]:
    cov = word("coverage", name)
    check(ctx, cov in ctx.decision["coverages"], f"a coverage {cov!r}", f"coverages {list(ctx.decision['coverages'])}")
    return cov, ctx.decision["coverages"][cov]


@then(parsers.re(r'"(?P<name>[^"]+)" is (?P<status>covered|not covered|excluded|needs information)$'))
@then(parsers.re(r"「(?P<name>[^」]+)」は(?P<status>補償対象外|補償対象|免責|情報不足)$"))
def coverage_status(ctx: Ctx, name: str, status: str) -> None:
    cov, entry = _coverage(ctx, name)
    want = word("status", status)
    check(ctx, entry["status"] == want, f"{cov} {want}", f"{cov} {entry['status']} because {[r['rule'] for r in entry['reasons']]}")


@then(parsers.re(r'"(?P<name>[^"]+)" is (?P<status>covered|not covered|excluded|needs information) under "(?P<clause>[^"]+)"'))
@then(parsers.re(r"「(?P<name>[^」]+)」は「(?P<clause>[^」]+)」により(?P<status>補償対象外|補償対象|免責|情報不足)"))
def coverage_status_clause(ctx: Ctx, name: str, status: str, clause: str) -> None:
    cov, entry = _coverage(ctx, name)
    want = word("status", status)
    clauses = [r["clause"] for r in entry["reasons"]]
    check(ctx, entry["status"] == want and clause in clauses, f"{cov} {want} under {clause}",
          f"{cov} {entry['status']} under {clauses}")


@then(parsers.parse('"{name}" pays {amount} yen'))
@then(parsers.parse("「{name}」の支払額は {amount} 円"))
def coverage_pays(ctx: Ctx, name: str, amount: str) -> None:
    cov, entry = _coverage(ctx, name)
    check(ctx, entry["payable"] == yen(amount), f"{cov} pays {yen(amount):,}", f"{cov} pays {entry['payable']:,}")


@then(parsers.parse("the total payable is {amount} yen"))
@then(parsers.parse("支払額合計は {amount} 円"))
def total(ctx: Ctx, amount: str) -> None:
    got = ctx.decision["total_payable"]
    check(ctx, got == yen(amount), f"total {yen(amount):,}", f"total {got:,}")


@then(parsers.parse("loss line {n:d} pays {amount} yen"))
@then(parsers.parse("{n:d} 番目の損害の支払額は {amount} 円"))
def line_pays(ctx: Ctx, n: int, amount: str) -> None:
    line = ctx.decision["lines"][n - 1]
    check(ctx, line["paid"] == yen(amount), f"line {n} pays {yen(amount):,}",
          f"line {n} ({line['category']}) pays {line['paid']:,}, steps {[(s['step'], s['after']) for s in line['steps']]}")


@then(parsers.parse("rule {rule} fires"))
@then(parsers.parse("ルール {rule} が発火する"))
def rule_fires(ctx: Ctx, rule: str) -> None:
    fired = [t["rule"] for t in ctx.decision["trace"]]
    check(ctx, rule.strip() in fired, f"rule {rule} fires", f"fired {fired}")


@then(parsers.parse("rule {rule} does not fire"))
@then(parsers.parse("ルール {rule} は発火しない"))
def rule_silent(ctx: Ctx, rule: str) -> None:
    fired = [t["rule"] for t in ctx.decision["trace"]]
    check(ctx, rule.strip() not in fired, f"rule {rule} silent", f"fired {fired}")


@then(parsers.re(r"(?P<field>[a-z_][a-z_0-9.\[\]]*) is asked for$"))
@then(parsers.re(r"(?P<field>[a-z_][a-z_0-9.\[\]]*) が求められる$"))
def asked_for(ctx: Ctx, field: str) -> None:
    asked = [n["field"] for n in ctx.decision["needs_information"]]
    check(ctx, field.strip() in asked, f"{field} asked for", f"asked for {asked}")


@then("nothing further is asked for")
@then("追加の情報は求められない")
def nothing_asked(ctx: Ctx) -> None:
    asked = [n["field"] for n in ctx.decision["needs_information"]]
    check(ctx, asked == [], "nothing asked for", f"asked for {asked}")


# ---------------------------------------------------------------- the rule-coverage report
def unexercised() -> tuple[list[str], list[str]]:
    book = load_rulebook()
    never_fired = [r.id for r in book.rules if not FIRED.get(r.id)]
    never_silent = [r.id for r in book.rules if not SILENT.get(r.id)]
    return never_fired, never_silent


def _full_run(session: pytest.Session) -> bool:
    opt = session.config.option
    return RUNS["count"] > 0 and not getattr(opt, "keyword", "") and not getattr(opt, "markexpr", "") \
        and not getattr(opt, "lf", False) and session.testsfailed == 0 and \
        getattr(session, "_scenario_items_all", False)


def pytest_collection_modifyitems(session, config, items):
    """The coverage verdict is only fair when every feature file's scenarios were all selected
    (pytest-bdd's test docstring begins with the feature file's path)."""
    selected = {(getattr(getattr(i, "obj", None), "__doc__", "") or "").rsplit(".feature: ", 1)[0] + ".feature"
                for i in items}
    session._scenario_items_all = {str(p) for p in (HERE / "features").rglob("*.feature")} <= selected


def pytest_sessionfinish(session, exitstatus):
    if not _full_run(session):
        return
    never_fired, never_silent = unexercised()
    lines = [f"scenario adjudications: {RUNS['count']}",
             f"rules never fired by a scenario: {len(never_fired)}", *[f"  {r}" for r in never_fired],
             f"rules never shown silent by a scenario of their programme: {len(never_silent)}",
             *[f"  {r}" for r in never_silent]]
    session.config._rule_coverage = lines
    if never_fired or never_silent:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = getattr(config, "_rule_coverage", None)
    if lines:
        terminalreporter.section("rule coverage by the Gherkin scenarios")
        for line in lines:
            terminalreporter.write_line(line)
