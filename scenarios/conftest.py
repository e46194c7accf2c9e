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

from adjudicator import ClaimError, adjudicate
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.engine.examples import drop_path, load_bases

HERE = Path(__file__).resolve().parent
VOCAB = yaml.safe_load((HERE / "vocabulary.yaml").read_text(encoding="utf-8"))
_CATEGORY_JA = {v["ja"]: k for k, v in load_rulebook().ui["categories"].items()}
_CATEGORY_IDS = set(_CATEGORY_JA.values())

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


# the step being run: where it is (file:line), its words and the feature's language
CURRENT: dict = {}


def _where(feature) -> str:
    try:
        return str(Path(feature.filename).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return feature.filename


def pytest_bdd_before_step(request, feature, scenario, step, step_func):
    CURRENT.update(file=_where(feature), line=step.line_number, text=f"{step.keyword}{step.name}".strip(),
                   lang="ja" if feature.language == "ja" else "en")


def pytest_bdd_before_scenario(request, feature, scenario):
    CURRENT.clear()
    CURRENT.update(file=_where(feature), line=scenario.line_number, text=scenario.name,
                   lang="ja" if feature.language == "ja" else "en")


_WORDS = {
    "ja": {"expected": "期待", "actual": "実際", "at": "場所", "step": "ステップ", "cut_by": "金額を削った算定段階",
           "no_cut": "（削減した算定段階はありません）", "trace": "発火したルール", "coverages": "補償ごとの判定",
           "needs": "求められた情報"},
    "en": {"expected": "expected", "actual": "actual", "at": "at", "step": "step", "cut_by": "steps that cut the amount",
           "no_cut": "(no step cut it)", "trace": "trace", "coverages": "coverages",
           "needs": "asked for"},
}


def _lang() -> str:
    return CURRENT.get("lang", "en")


def cover_label(ctx: Ctx, cov: str) -> str:
    entry = (ctx.decision or {}).get("coverages", {}).get(cov)
    return entry["label"][_lang()] if entry else cov


def cutting_steps(ctx: Ctx, cov: str | None = None, line: int | None = None) -> list[str]:
    """The waterfall steps that cut the amount, named as the decision document names them."""
    from adjudicator.documents.render import DocumentContext
    from adjudicator.policy.catalogue import load_catalogue
    d = ctx.decision or {}
    if not d:
        return []
    lang = _lang()
    cx = DocumentContext(d, lang, load_rulebook(), load_catalogue(), None, False)
    out = []
    if line is not None:
        ln = d["lines"][line]
        steps, owner = ln["steps"], ln["coverage"]
    else:
        steps = [s for c, e in d["coverages"].items() if cov in (None, c) for s in e["steps"]]
        owner = cov
    for s in steps:
        if s.get("cut"):
            out.append(f"{cx.step_name(s, owner)}: {s['before']:,} → {s['after']:,} (−{s['cut']:,}; {s.get('clause', '')})")
    return out


def explain_failure(ctx: Ctx, expected: str, actual: str, cuts: list[str] | None = None) -> str:
    d = ctx.decision or {}
    w = _WORDS[_lang()]
    where = f"{CURRENT['file']}:{CURRENT['line']}" if CURRENT.get("file") else "?"
    lines = [f"{where}: {w['step']} 「{CURRENT.get('text', '')}」" if _lang() == "ja"
             else f"{where}: {w['step']} \"{CURRENT.get('text', '')}\"",
             f"{w['expected']}: {expected}", f"{w['actual']}:   {actual}"]
    if cuts is not None:
        lines.append(f"{w['cut_by']}:")
        lines += [f"  {c}" for c in cuts] or [f"  {w['no_cut']}"]
    lines.append(f"{w['trace']}:")
    lines += [f"  {t['rule']} [{t['effect']} {','.join(t['targets'])}] ({t['clause']}) on {t['fired_on']}"
              for t in d.get("trace", [])]
    lines.append(f"{w['coverages']}: " + ", ".join(f"{c}={v['status']}:{v['payable']:,}"
                                                  for c, v in d.get("coverages", {}).items()))
    if d.get("needs_information"):
        lines.append(f"{w['needs']}: " + ", ".join(n["field"] for n in d["needs_information"]))
    return "\n".join(lines)


def check(ctx: Ctx, ok: bool, expected: str, actual: str, ja: tuple[str, str] | None = None,
          cuts: list[str] | None = None) -> None:
    """Fail the step with the expectation in the feature's language (ja: the Japanese expected/actual)."""
    if not ok:
        if ja and _lang() == "ja":
            expected, actual = ja
        pytest.fail(explain_failure(ctx, expected, actual, cuts), pytrace=False)


def step_error(message_en: str, message_ja: str) -> None:
    """A one-line failure for a step the scenario wrote wrong (no traceback)."""
    where = f"{CURRENT['file']}:{CURRENT['line']}: " if CURRENT.get("file") else ""
    pytest.fail(where + (message_ja if _lang() == "ja" else message_en), pytrace=False)


# ---------------------------------------------------------------- Given: the policy
@given(parsers.parse("a typical {programme} claim"))
@given(parsers.parse("{programme} の標準的な請求"))
def typical_claim(ctx: Ctx, programme: str) -> None:
    ctx.claim = copy.deepcopy(load_bases()[word("programme", programme)])


@given(parsers.parse('the claim file "{path}"'))
@given(parsers.parse("請求ファイル「{path}」"))
def claim_file(ctx: Ctx, path: str) -> None:
    # only a YAML/JSON file under scenarios/ (the desk runs underwriters' text: no other file is read)
    full = (HERE.parent / path).resolve()
    if not full.is_relative_to(HERE.resolve()) or full.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ValueError("a claim file must be a YAML or JSON file under scenarios/")
    ctx.claim = yaml.safe_load(full.read_text(encoding="utf-8"))


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
    """Moves the incident; a measure the base claim dated before the new occurrence is moved to the day
    of discovery (a measure cannot precede the leak it makes evident; a scenario about the measure's
    date says so in its own step)."""
    inc = ctx.incident()
    inc.update(occurred_on=occurred.strip(), discovered_on=discovered.strip())
    if inc.get("evidence_dates"):
        inc["evidence_dates"] = {k: (inc["discovered_on"] if str(v) < inc["occurred_on"] else v)
                                 for k, v in inc["evidence_dates"].items()}


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
    """`… by X, Y` leaves the items undated (the rules then ask for their dates, issue 17);
    `… by X, Y on 2025-09-03` / 「X、Y（2025-09-03）」 dates each of them."""
    dated = re.fullmatch(r"(?P<what>.+?)(?: on |（)(?P<on>\d{4}-\d{2}-\d{2})）?", evidence.strip())
    items = words("evidence", dated["what"] if dated else evidence)
    ctx.incident()["evidence"] = items
    ctx.incident()["evidence_dates"] = {k: dated["on"] for k in items} if dated else {}


@given(parsers.parse("the leak was also made evident by {evidence}, undated"))
@given(parsers.parse("客観的明白性の措置に {evidence}（日付なし）もある"))
def more_evidence_undated(ctx: Ctx, evidence: str) -> None:
    """Adds undated items to the evidence already given, keeping the dates of the others."""
    added = words("evidence", evidence)
    items = ctx.incident().setdefault("evidence", [])
    items.extend(i for i in added if i not in items)
    dates = ctx.incident().get("evidence_dates") or {}
    ctx.incident()["evidence_dates"] = {k: v for k, v in dates.items() if k not in added}


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


@given(parsers.re(r"the accident (?P<neg>was|was not) caused by a defect of the new software"))
@given(parsers.re(r"事故は新しいソフトウェアの瑕疵によるもの (?P<neg>である|ではない)"))
def software_defect(ctx: Ctx, neg: str) -> None:
    ctx.incident()["software_defect_caused"] = neg in ("was", "である")


@given(parsers.parse("the facility closed for {n:d} days"))
@given(parsers.parse("休業日数は {n:d} 日"))
def closure(ctx: Ctx, n: int) -> None:
    ctx.incident()["closure_days"] = n


@given(parsers.parse("reports were made to {reports}"))
@given(parsers.parse("届出・報告は {reports}"))
def reports(ctx: Ctx, reports: str) -> None:
    ctx.incident()["reports"] = words("report", reports)


@given(parsers.re(r"the insured (?P<neg>recognised|did not recognise) a possible breach of law$"))
@given(parsers.re(r"法令などに抵触するおそれを(?P<neg>認識した|認識していない)$"))
def breach_recognised(ctx: Ctx, neg: str) -> None:
    ctx.incident()["breach_of_law_recognised"] = neg in ("recognised", "認識した")


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
        category = _CATEGORY_JA.get(rec["category"], rec["category"])
        if category not in _CATEGORY_IDS:
            step_error(f"unknown loss category {rec['category']!r} in \"{CURRENT.get('text', '')}\"; accepted: "
                       + ", ".join(sorted(_CATEGORY_IDS)),
                       f"「{CURRENT.get('text', '')}」の損害区分「{rec['category']}」は使えません。使える区分: "
                       + "、".join(_CATEGORY_JA))
        line = {"category": category, "amount": yen(rec["amount"])}
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
    try:
        ctx.decision = adjudicate(ctx.claim)
    except ClaimError as exc:
        from adjudicator.contract.wording import word as worded
        step_error("the claim the scenario built is invalid: " + "; ".join(f"{f}: {m}" for f, m in exc.problems),
                   "シナリオが組み立てた請求は不正です: " + "; ".join(f"{f}: {worded(m, 'ja')}" for f, m in exc.problems))
    programme = ctx.decision["programme"]
    fired = {t["rule"] for t in ctx.decision["trace"]}
    RUNS["count"] += 1
    for rule in load_rulebook().for_programme(programme):
        (FIRED if rule.id in fired else SILENT).setdefault(rule.id, set()).add(programme)


# ---------------------------------------------------------------- Then
_STATUS_JA = {"covered": "補償対象", "not_covered": "補償対象外", "excluded": "免責", "needs_information": "情報不足"}


def _coverage(ctx: Ctx, name: str) -> tuple[str, dict]:
    cov = word("coverage", name)
    by_label = {e["label"][k]: c for c, e in ctx.decision["coverages"].items() for k in ("ja", "en")}
    cov = by_label.get(name.strip(), cov)
    check(ctx, cov in ctx.decision["coverages"], f"a coverage {cov!r}", f"coverages {list(ctx.decision['coverages'])}",
          ja=(f"補償「{name}」", "この制度の補償: " + "、".join(e["label"]["ja"] for e in ctx.decision["coverages"].values())))
    return cov, ctx.decision["coverages"][cov]


@then(parsers.re(r'"(?P<name>[^"]+)" is (?P<status>covered|not covered|excluded|needs information)$'))
@then(parsers.re(r"「(?P<name>[^」]+)」は(?P<status>補償対象外|補償対象|免責|情報不足)$"))
def coverage_status(ctx: Ctx, name: str, status: str) -> None:
    cov, entry = _coverage(ctx, name)
    want = word("status", status)
    check(ctx, entry["status"] == want, f"{cover_label(ctx, cov)} {want}",
          f"{cover_label(ctx, cov)} {entry['status']} because {[r['rule'] for r in entry['reasons']]}",
          ja=(f"「{cover_label(ctx, cov)}」は{status}", f"「{cover_label(ctx, cov)}」は{_STATUS_JA[entry['status']]}"
              f"（理由: {', '.join(r['rule'] or r['text'] for r in entry['reasons'])}）"))


@then(parsers.re(r'"(?P<name>[^"]+)" is (?P<status>covered|not covered|excluded|needs information) under "(?P<clause>[^"]+)"'))
@then(parsers.re(r"「(?P<name>[^」]+)」は「(?P<clause>[^」]+)」により(?P<status>補償対象外|補償対象|免責|情報不足)"))
def coverage_status_clause(ctx: Ctx, name: str, status: str, clause: str) -> None:
    cov, entry = _coverage(ctx, name)
    want = word("status", status)
    clauses = [r["clause"] for r in entry["reasons"]]
    check(ctx, entry["status"] == want and clause in clauses, f"{cov} {want} under {clause}",
          f"{cov} {entry['status']} under {clauses}")


@then(parsers.parse('"{name}" says no loss line was claimed under it'))
@then(parsers.parse("「{name}」は請求された損害がないと示す"))
def no_loss_claimed(ctx: Ctx, name: str) -> None:
    cov, entry = _coverage(ctx, name)
    effects = [r.get("effect") for r in entry["reasons"]]
    check(ctx, "no_loss_claimed" in effects, f"{cov} says no loss line was claimed", f"{cov} reasons {effects}")


@then(parsers.parse('"{name}" pays {amount} yen'))
@then(parsers.parse("「{name}」の支払額は {amount} 円"))
def coverage_pays(ctx: Ctx, name: str, amount: str) -> None:
    cov, entry = _coverage(ctx, name)
    label = cover_label(ctx, cov)
    check(ctx, entry["payable"] == yen(amount), f"{label} pays {yen(amount):,} yen", f"{label} pays {entry['payable']:,} yen",
          ja=(f"「{label}」の支払額は {yen(amount):,} 円", f"「{label}」の支払額は {entry['payable']:,} 円"),
          cuts=cutting_steps(ctx, cov))


@then(parsers.parse("the total payable is {amount} yen"))
@then(parsers.parse("支払額合計は {amount} 円"))
def total(ctx: Ctx, amount: str) -> None:
    got = ctx.decision["total_payable"]
    check(ctx, got == yen(amount), f"total {yen(amount):,} yen", f"total {got:,} yen",
          ja=(f"支払額合計は {yen(amount):,} 円", f"支払額合計は {got:,} 円"), cuts=cutting_steps(ctx))


@then(parsers.parse("loss line {n:d} pays {amount} yen"))
@then(parsers.parse("{n:d} 番目の損害の支払額は {amount} 円"))
def line_pays(ctx: Ctx, n: int, amount: str) -> None:
    if not 1 <= n <= len(ctx.decision["lines"]):
        step_error(f"there is no loss line {n} (the claim has {len(ctx.decision['lines'])})",
                   f"{n} 番目の損害はありません（損害は {len(ctx.decision['lines'])} 件）")
    line = ctx.decision["lines"][n - 1]
    category = load_rulebook().ui["categories"][line["category"]][_lang()]
    check(ctx, line["paid"] == yen(amount), f"line {n} ({category}) pays {yen(amount):,} yen",
          f"line {n} ({category}) pays {line['paid']:,} yen",
          ja=(f"{n} 番目の損害（{category}）の支払額は {yen(amount):,} 円", f"{n} 番目の損害（{category}）の支払額は {line['paid']:,} 円"),
          cuts=cutting_steps(ctx, line=n - 1))


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


# ---------------------------------------------------------------- Then: payment-omission checks (issue 20)
def _unclaimed(ctx: Ctx, name: str) -> dict | None:
    cov = word("coverage", name)
    for u in ctx.decision["unclaimed_benefits"]:
        if u["coverage"] == cov or name.strip() in (u["label"]["ja"], u["label"]["en"]):
            return u
    return None


@then(parsers.parse('the unclaimed benefits include "{name}"'))
@then(parsers.parse("未請求の給付に「{name}」がある"))
def unclaimed_includes(ctx: Ctx, name: str) -> None:
    listed = [u["coverage"] for u in ctx.decision["unclaimed_benefits"]]
    check(ctx, _unclaimed(ctx, name) is not None, f"{name} among the unclaimed benefits", f"unclaimed: {listed}",
          ja=(f"未請求の給付に「{name}」", f"未請求の給付: {listed}"))


@then(parsers.parse('the unclaimed benefits do not include "{name}"'))
@then(parsers.parse("未請求の給付に「{name}」はない"))
def unclaimed_excludes(ctx: Ctx, name: str) -> None:
    listed = [u["coverage"] for u in ctx.decision["unclaimed_benefits"]]
    check(ctx, _unclaimed(ctx, name) is None, f"{name} not among the unclaimed benefits", f"unclaimed: {listed}",
          ja=(f"未請求の給付に「{name}」はない", f"未請求の給付: {listed}"))


@then(parsers.parse('the unclaimed "{name}" still needs {field}'))
@then(parsers.parse("未請求の「{name}」には {field} が必要"))
def unclaimed_needs(ctx: Ctx, name: str, field: str) -> None:
    entry = _unclaimed(ctx, name) or {"needs": []}
    fields = [n.get("field") for n in entry["needs"]]
    check(ctx, field in fields, f"{name} needs {field}", f"{name} needs {fields}",
          ja=(f"「{name}」には {field} が必要", f"「{name}」に必要なもの: {fields}"))


@then(parsers.parse('the unclaimed "{name}" would pay {amount} yen'))
@then(parsers.parse("未請求の「{name}」の見込額は {amount} 円"))
def unclaimed_amount(ctx: Ctx, name: str, amount: str) -> None:
    entry = _unclaimed(ctx, name) or {}
    check(ctx, entry.get("amount") == yen(amount), f"{name} would pay {yen(amount):,}", f"{name}: {entry.get('amount')}",
          ja=(f"「{name}」の見込額 {yen(amount):,} 円", f"「{name}」の見込額 {entry.get('amount')}"))


_WHY_KIND = {"the claimant can supply": "claimant_can_supply", "ご請求者が補完できる": "claimant_can_supply",
             "the facts would need": "facts_would_have_to_be", "事実が異なれば": "facts_would_have_to_be"}


@then(parsers.re(r'"(?P<name>[^"]+)" would pay if (?P<kind>the claimant can supply|the facts would need) '
                 r'(?P<field>[a-z_.]+) (?P<op>add|remove|set) (?P<value>\S+)$'))
@then(parsers.re(r"「(?P<name>[^」]+)」は(?P<kind>ご請求者が補完できる|事実が異なれば)変更 (?P<field>[a-z_.]+) "
                 r"(?P<op>add|remove|set) (?P<value>\S+) で支払対象になる"))
def why_not_suggests(ctx: Ctx, name: str, kind: str, field: str, op: str, value: str) -> None:
    """A why-not suggestion of that kind changes the field so; applied to the claim, it pays."""
    cov, entry = _coverage(ctx, name)
    wn = entry.get("why_not") or {}
    items = wn.get(_WHY_KIND[kind], [])
    hit = next((s for s in items if any(c["field"] == field and c["op"] == op and str(c["value"]) == value
                                        for c in s["changes"])), None)
    seen = [[(c["field"], c["op"], c["value"]) for c in s["changes"]] for s in items]
    check(ctx, hit is not None, f"{cov}: {kind} {field} {op} {value}", f"{cov}: {seen}",
          ja=(f"「{name}」: {kind} {field} {op} {value}", f"「{name}」: {seen}"))
    claim = copy.deepcopy(ctx.claim)
    for c in hit["changes"]:
        node = claim
        *parents, last = c["field"].split(".")
        for p in parents:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        if c["op"] == "set":
            node[last] = c["value"]
        elif c["op"] == "add":
            node[last] = list(node.get(last) or []) + [c["value"]]
        else:
            node[last] = [x for x in node.get(last) or [] if x != c["value"]]
    paid = adjudicate(claim)["coverages"][cov]["payable"]
    check(ctx, paid == hit["pays"] > 0, f"{cov} pays {hit['pays']:,} once applied", f"{cov} pays {paid:,} once applied",
          ja=(f"変更後「{name}」の支払額 {hit['pays']:,} 円", f"変更後「{name}」の支払額 {paid:,} 円"))


@then(parsers.parse('"{name}" was decided by "{clause}"'))
@then(parsers.parse("「{name}」の支払われない理由の条項は「{clause}」"))
def why_not_clause(ctx: Ctx, name: str, clause: str) -> None:
    cov, entry = _coverage(ctx, name)
    clauses = [d["clause"] for d in (entry.get("why_not") or {}).get("decided_by", [])]
    check(ctx, clause in clauses, f"{cov} decided by {clause}", f"{cov} decided by {clauses}",
          ja=(f"「{name}」の条項「{clause}」", f"「{name}」の条項 {clauses}"))
