"""The claims desk (issue 12) without a browser: sessions, CSRF, roles, escaping, the form derived from
the contract, through FastAPI's TestClient on a real SQLite ledger. The browser tests are in
test_desk_browser.py."""
from __future__ import annotations

import copy
import csv
import io
import json
import re
import typing
import warnings

import pytest
import yaml

from support import EXAMPLES

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from adjudicator.contract.claim import Claim
from adjudicator.ledger import Ledger
from adjudicator.service.app import create_app
from adjudicator.service.auth import PERMISSIONS
from adjudicator.service.desk import forms, scenario_run
from adjudicator.service.desk.common import NAV
from adjudicator.service.settings import Settings

ROLES = ("handler", "underwriter", "auditor", "admin")
NAGANO = json.loads(json.dumps(yaml.safe_load((EXAMPLES / "nagano_seed_example.yaml").read_text(encoding="utf-8")),
                               default=str))
NAGANO["policy"]["policy_number"] = "NG-DESK-1"  # recorded claims carry one: the ledger keeps aggregates by it


@pytest.fixture
def desk(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(str(path)) as led:
        tokens = {role: led.add_user(f"{role}-1", role) for role in ROLES}
    client = TestClient(create_app(Settings(ledger=str(path), secret="test-secret")), follow_redirects=False)
    client.tokens, client.path = tokens, path
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client, role: str, lang: str = "en") -> str:
    client.cookies.clear()
    r = client.get(f"/desk/{lang}/login")
    r = client.post(f"/desk/{lang}/login", data={"csrf": csrf_of(r.text), "token": client.tokens[role]})
    assert r.status_code == 303, r.text
    return csrf_of(client.get(f"/desk/{lang}/rules" if role != "admin" else f"/desk/{lang}/users").text)


def test_the_session_cookie_is_httponly_samesite_signed_and_holds_no_token(desk):
    r = desk.get("/desk/en/login")
    r = desk.post("/desk/en/login", data={"csrf": csrf_of(r.text), "name": "handler-1",
                                          "token": desk.tokens["handler"]})
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert desk.tokens["handler"] not in cookie
    # a cookie altered by hand is no session
    value = desk.cookies.get("desk_session")
    desk.cookies.set("desk_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert desk.get("/desk/en/claims/new").status_code == 303


def test_wrong_name_or_token_is_refused(desk):
    r = desk.get("/desk/ja/login")
    csrf = csrf_of(r.text)
    r = desk.post("/desk/ja/login", data={"csrf": csrf, "name": "auditor-1", "token": desk.tokens["handler"]})
    assert r.status_code == 401 and "ユーザー名またはトークンが正しくありません" in r.text
    r = desk.post("/desk/ja/login", data={"csrf": csrf, "token": "x" * 300})
    assert r.status_code == 401


def test_a_disabled_account_is_logged_out_at_once(desk):
    login(desk, "handler")
    assert desk.get("/desk/en/claims/new").status_code == 200
    with Ledger(str(desk.path)) as led:
        led.disable_user("handler-1")
    assert desk.get("/desk/en/claims/new").status_code == 303


def test_every_form_needs_the_session_csrf_token(desk):
    csrf = login(desk, "handler")
    claim = json.dumps(dict(NAGANO, claim_id="CSRF-1"))
    for path, data in [("/desk/en/claims/decide", {"programme": "nagano-privacy-2016"}),
                       ("/desk/en/claims/file", {"text": "programme: x"}),
                       ("/desk/en/claims/answer", {"claim": claim}), ("/desk/en/claims/record", {"claim": claim}),
                       ("/desk/en/claims/edit", {"claim": claim}), ("/desk/en/claims/show", {"claim": claim}),
                       ("/desk/en/logout", {})]:
        for bad in ({}, {"csrf": "forged"}):
            r = desk.post(path, data={**data, **bad})
            assert r.status_code == 403, (path, bad, r.status_code)
            assert "The form expired" in r.text
    with Ledger(str(desk.path)) as led:
        assert led.exists("CSRF-1") is None
    assert desk.post("/desk/en/claims/record", data={"claim": claim, "csrf": csrf}).status_code == 200
    # the login form too: a login without the pre-session's token is refused
    desk.cookies.clear()
    assert desk.post("/desk/en/login", data={"token": desk.tokens["handler"]}).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_and_does_only_its_job(desk, role):
    csrf = login(desk, role)
    pages = {"claims/new": "adjudicate", "work": "work_list", "ledger": "read_ledger", "rules": "reference",
             "scenarios": "scenarios", "users": "users"}
    nav = desk.get("/desk/en/login").text
    for path, permission in pages.items():
        r = desk.get(f"/desk/en/{path}")
        ok = role in PERMISSIONS[permission]
        assert r.status_code == (200 if ok else 403), (role, path)
    home = desk.get("/desk/en/")
    assert home.status_code == 303
    shown = {p for _, p, perm in NAV if role in PERMISSIONS[perm]}
    page = desk.get(home.headers["location"]).text
    assert nav  # the login page renders for a logged-in user too
    for _, path, _ in NAV:
        assert (f'href="/desk/en/{path}"' in page) == (path in shown), (role, path)
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(dict(NAGANO, claim_id="R-1"))})
    assert r.status_code == (200 if role == "handler" else 403)
    with Ledger(str(desk.path)) as led:
        assert (led.exists("R-1") is not None) == (role == "handler")


def test_user_typed_text_is_escaped_everywhere(desk):
    csrf = login(desk, "handler")
    evil = '<script>alert("x")</script>'
    claim = dict(NAGANO, claim_id=evil)
    claim["losses"] = [dict(NAGANO["losses"][0], note=evil)]
    # a policy number holds only characters a reader can tell apart: markup is refused, escaped
    claim["policy"] = dict(NAGANO["policy"], policy_number=evil)
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(claim)})
    assert r.status_code == 422 and "<script>alert" not in r.text and "policy.policy_number" in r.text
    claim["policy"] = dict(NAGANO["policy"], policy_number="NP-(1)#2")
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(claim)})
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    for path in ("/desk/en/ledger", "/desk/en/ledger/records/1", "/desk/en/work",
                 f"/desk/en/ledger?claim_id={evil}"):
        page = desk.get(path)
        assert page.status_code == 200 and "<script>alert" not in page.text, path
    r = desk.post("/desk/en/claims/file", data={"csrf": csrf, "text": f"programme: {evil}"})
    assert r.status_code == 422 and "<script>alert" not in r.text
    rows = list(csv.DictReader(io.StringIO(desk.get("/desk/en/ledger/export?format=csv").text)))
    assert rows[0]["claim_id"] == evil  # an export is data, not a page; but never a formula
    claim2 = dict(NAGANO, claim_id="=HYPERLINK(1)")
    desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(claim2)})
    assert "'=HYPERLINK(1)" in desk.get("/desk/en/ledger/export?format=csv").text
    assert all(json.loads(line) for line in desk.get("/desk/en/ledger/export?format=jsonl").text.splitlines())


def test_a_claim_id_or_policy_number_with_a_slash_keeps_its_pages(desk):
    """Neither the contract nor the ledger forbids "/" in an id; the links quote it to %2F, which the
    server decodes back to "/": the routes take the rest of the path, so the pages do not 404."""
    csrf = login(desk, "handler")
    claim = dict(NAGANO, claim_id="NG/2016/7", policy=dict(NAGANO["policy"], policy_number="NP/77"))
    assert desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(claim)}).status_code == 200
    record = desk.get("/desk/en/ledger/records/1").text
    assert 'href="/desk/en/ledger/policy/NP%2F77"' in record and "/claims/NG%2F2016%2F7/clock" in record
    policy = desk.get("/desk/en/ledger/policy/NP%2F77")
    assert policy.status_code == 200 and "NG/2016/7" in policy.text
    r = desk.post("/desk/en/claims/NG%2F2016%2F7/clock",
                  data={"csrf": csrf, "action": "complete", "completed_on": "2016-07-01"})
    assert r.status_code in (200, 303), r.text
    with Ledger(str(desk.path)) as led:
        assert led.state("NG/2016/7")["clock"]["completed_on"] == "2016-07-01"


def test_pages_carry_a_strict_content_security_policy_and_assets_are_local(desk):
    login(desk, "handler")
    r = desk.get("/desk/en/claims/new")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    for src in re.findall(r'(?:src|href)="([^"]+)"', r.text):
        assert src.startswith("/") or src.startswith("?") or src.startswith("#"), src
    assert desk.get("/desk/static/desk.js").status_code == 200
    assert desk.get("/desk/static/desk.css").status_code == 200


def test_login_next_never_leaves_the_desk(desk):
    for nxt in ("https://evil.example/", "//evil.example/", "/desk/en//evil", "/api/v1/health"):
        desk.cookies.clear()
        r = desk.get("/desk/en/login")
        r2 = desk.post("/desk/en/login", data={"csrf": csrf_of(r.text), "token": desk.tokens["handler"], "next": nxt})
        assert r2.headers["location"] == "/desk/en/", nxt


def test_the_form_is_derived_from_the_contract():
    """Every field of the claim-file contract has its widget, every enumeration its values."""
    def paths(model, prefix=""):
        for name, info in model.model_fields.items():
            tp = info.annotation
            yield prefix + name
            for arg in typing.get_args(tp) + (tp,):
                inner = typing.get_args(arg)[0] if typing.get_origin(arg) is list else arg
                if isinstance(inner, type) and hasattr(inner, "model_fields"):
                    yield from paths(inner, prefix + name + ".")
    assert set(paths(Claim)) == set(forms.INDEX)
    assert forms.INDEX["incident.cause"].choices == list(typing.get_args(
        typing.get_args(Claim.model_fields["incident"].annotation.model_fields["cause"].annotation)[0]))
    # round trip: a claim file -> form values -> the same claim file
    claim, _, problems = forms.claim_from_values(forms.values_from_claim(NAGANO))
    assert problems == [] and Claim.model_validate(claim) == Claim.model_validate(NAGANO)


def test_an_optional_list_distinguishes_not_told_from_none():
    base = forms.values_from_claim(NAGANO)
    base.pop("incident.evidence")
    claim, _, _ = forms.claim_from_values(base)
    assert "evidence" not in claim["incident"]
    claim, _, _ = forms.claim_from_values({**base, "incident.evidence": forms.NONE_TICK})
    assert claim["incident"]["evidence"] == []


def test_a_scenario_may_read_claim_files_only_under_scenarios(tmp_path):
    root = scenario_run.project_root()
    assert scenario_run.outside_files('Given the claim file "scenarios/examples/nagano_seed_example.yaml"', root) is None
    for bad in ('Given the claim file "../../etc/passwd"', "前提 請求ファイル「rules/desk.yaml」",
                'Given the claim file "scenarios/conftest.py"'):
        assert scenario_run.outside_files(bad, root) is not None
    result = scenario_run.run('Feature: x\n  Scenario: y\n    Given the claim file "/etc/passwd"\n')
    assert result["ok"] is False and "/etc/passwd" in result["error"]
    # steps match in any case and spacing: so does the check (found by the hostile probe)
    for bad in ('Given the Claim File "/etc/passwd"', 'Given THE CLAIM  FILE "/etc/hostname"', "前提 請求ファイル 「/etc/passwd」"):
        assert scenario_run.outside_files(bad, root) is not None, bad


def test_the_claim_file_step_itself_reads_only_under_scenarios():
    """The step refuses any other file, whatever text reached it."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("scenario_steps", scenario_run.project_root() / "scenarios" / "conftest.py")
    steps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(steps)
    ctx = steps.Ctx()
    steps.claim_file(ctx, "scenarios/examples/nagano_seed_example.yaml")
    assert ctx.claim["claim_id"]
    for bad in ("/etc/passwd", "../etc/passwd", "rules/desk.yaml", "scenarios/conftest.py"):
        with pytest.raises(ValueError, match="under scenarios/"):
            steps.claim_file(ctx, bad)


def test_pages_name_bad_requests_in_html_without_a_trace(desk):
    login(desk, "auditor")
    r = desk.get("/desk/en/ledger/records/999")
    assert r.status_code == 404 and "Not found" in r.text and "Traceback" not in r.text
    r = desk.get("/desk/fr/ledger")
    assert r.status_code == 404
    r = desk.get("/desk/en/ledger?date_from=yesterday")
    assert r.status_code == 422 and "Traceback" not in r.text


def test_accounts_are_made_on_the_command_line_and_log_in_to_the_desk(tmp_path):
    from support import run_cli
    ledger = str(tmp_path / "l.sqlite")
    add = run_cli("users", "add", "hana", "--role", "handler", "--ledger", ledger)
    assert add.returncode == 0
    token = add.stdout.strip()
    again = run_cli("users", "add", "hana", "--role", "auditor", "--ledger", ledger)
    assert again.returncode == 2 and "already exists" in again.stderr
    listed = run_cli("users", "list", "--ledger", ledger)
    assert listed.stdout.split()[:3] == ["hana", "handler", "enabled"] and token not in listed.stdout
    with Ledger(ledger) as led:
        assert led.authenticate(token) == {"name": "hana", "role": "handler"}
    rotated = run_cli("users", "rotate", "hana", "--ledger", ledger).stdout.strip()
    with Ledger(ledger) as led:
        assert led.authenticate(token) is None and led.authenticate(rotated)["name"] == "hana"


def test_a_claim_file_is_uploaded_as_yaml_or_json_and_its_problems_named(desk):
    csrf = login(desk, "handler", "ja")
    body = json.dumps(NAGANO).encode()
    r = desk.post("/desk/ja/claims/file", data={"csrf": csrf}, files={"file": ("ng.json", body, "application/json")})
    assert r.status_code == 200 and "16,347,500" in r.text
    bad = dict(NAGANO, incident=dict(NAGANO["incident"], cause="meteor"))
    r = desk.post("/desk/ja/claims/file", data={"csrf": csrf},
                  files={"file": ("bad.yaml", yaml.safe_dump(bad).encode(), "application/x-yaml")})
    assert r.status_code == 422
    assert 'data-field="incident.cause"' in r.text and "次のいずれかを指定してください" in r.text
    r = desk.post("/desk/ja/claims/file", data={"csrf": csrf, "text": "programme: [unclosed"})
    assert r.status_code == 422 and "YAML として読めません" in r.text and "Traceback" not in r.text
    dup = b'{"programme": "jma-support", "programme": "jma-support"}'
    r = desk.post("/desk/en/claims/file", data={"csrf": csrf}, files={"file": ("d.json", dup, "application/json")})
    assert r.status_code == 422 and "duplicate key" in r.text
    big = b"x" * (2 * 1024 * 1024)
    r = desk.post("/desk/en/claims/file", data={"csrf": csrf}, files={"file": ("big.yaml", big, "text/plain")})
    assert r.status_code == 413


def test_every_page_switches_language_even_after_a_form(desk):
    csrf = login(desk, "handler")
    r = desk.post("/desk/en/claims/decide", data={"csrf": csrf, "programme": "nagano-privacy-2016"})
    assert r.status_code == 422 and 'id="lang-switch" href="/desk/ja/claims/new"' in r.text
    r = desk.get("/desk/en/ledger?policy_number=X")
    assert 'href="/desk/ja/ledger?policy_number=X"' in r.text
    r = desk.post("/desk/en/claims/file", data={"csrf": csrf, "text": json.dumps(NAGANO)})
    assert 'action="/desk/ja/claims/show"' in r.text  # a decision: the claim goes along


def test_the_rulebook_pages_and_every_rule_is_on_one_page(desk):
    from adjudicator.engine.rulebook import load_rulebook
    from adjudicator.service.desk.routes import RULES_PAGE
    login(desk, "auditor")
    seen = []
    want = {x.id for x in load_rulebook().for_programme("fukuoka-cyber-2025")}
    assert len(want) > RULES_PAGE
    for n in range(1, -(-len(want) // RULES_PAGE) + 1):
        r = desk.get(f"/desk/en/rules?programme=fukuoka-cyber-2025&page={n}")
        assert r.status_code == 200
        seen += re.findall(r'<tr id="rule-([A-Z0-9:a-z._-]+)">', r.text)
    assert len(seen) == len(set(seen)) == len(want) and set(seen) == want
    # the items not made into rules: one table row each, clause / item / reason, never a dumped mapping
    page = desk.get("/desk/en/rules?programme=fukuoka-cyber-2025").text
    assert '<td lang="en">Territory (worldwide) for fukuoka-cyber-2025</td>' in page and "'reason':" not in page
    r = desk.get("/desk/en/claims/new")  # auditors do not adjudicate; the form's row widgets are labelled
    assert r.status_code == 403
    login(desk, "handler")
    assert 'name="losses[0].amount" aria-label="Amount (yen)"' in desk.get("/desk/en/claims/new").text


def test_the_items_not_made_into_rules_are_in_the_page_language(desk):
    """rules/out_of_scope.yaml carries ja text for every item; the ja page shows it, the en page the
    English, and neither shows the other's (the last audit found English on the ja page)."""
    from markupsafe import escape

    from adjudicator.engine.rulebook import load_rulebook
    items = load_rulebook().out_of_scope
    assert items and all(o.get("item_ja") and o.get("reason_ja") for o in items)
    login(desk, "auditor")
    for programme in ("fukuoka-cyber-2025", "nagano-privacy-2016"):
        ja = desk.get(f"/desk/ja/rules?programme={programme}").text
        en = desk.get(f"/desk/en/rules?programme={programme}").text
        table_ja = ja.split('id="out-of-scope"', 1)[1].split("</table>", 1)[0]
        table_en = en.split('id="out-of-scope"', 1)[1].split("</table>", 1)[0]
        for o in items:  # items without a programme key concern every programme
            for field in ("item", "reason"):
                assert f'<td lang="ja">{escape(o[field + "_ja"])}</td>' in table_ja
                assert f'<td lang="en">{escape(o[field])}</td>' in table_en
                assert escape(o[field]) not in table_ja
                assert escape(o[field + "_ja"]) not in table_en
        assert 'lang="en"' not in table_ja and "（英文）" not in ja
    assert "保険適用地域（全世界）" in desk.get("/desk/ja/rules?programme=fukuoka-cyber-2025").text


def _replay_table(html: str) -> dict[str, list[str]]:
    """#replay-changes as {data-change key: [what, as recorded, now]}, the cells' text unescaped."""
    from html import unescape
    table = html.split('id="replay-changes"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-change="([^"]+)"[^>]*><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>',
                      table)
    return {key: [unescape(c) for c in cells] for key, *cells in rows}


def test_a_replay_under_another_rulebook_shows_what_changed(tmp_path, desk):
    """A claim recorded under the project's rulebook, replayed by a desk served with `--rules` naming a
    copy whose Nagano co-insurance is 80% instead of 90%: the record page names the two rulebooks and
    shows the total, the coverage and each loss line that changed, as recorded and now, in the page's
    language; the lines the co-insurance does not touch are not listed."""
    import shutil

    from adjudicator.decide import decide
    from adjudicator.ledger import LedgerError
    from adjudicator.engine.rulebook import load_rulebook
    from adjudicator.policy.catalogue import load_catalogue, rules_dir
    from adjudicator.policy.claims import parse_claim
    csrf = login(desk, "handler")
    assert desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(NAGANO)}).status_code == 200
    # same rulebook: identical, and the one row says under which rulebook
    csrf = login(desk, "auditor")
    same = desk.post("/desk/en/ledger/records/1/replay", data={"csrf": csrf})
    assert same.status_code == 200 and "The decision is identical." in same.text
    assert list(_replay_table(same.text)) == ["rulebook"] and 'class="changed"' not in same.text

    other = tmp_path / "rules-80"
    shutil.copytree(rules_dir(None), other)
    prog = other / "programmes" / "nagano-privacy-2016.yaml"
    text = prog.read_text(encoding="utf-8")
    assert text.count("percent: {value: 90,") == 1
    prog.write_text(text.replace("percent: {value: 90,", "percent: {value: 80,"), encoding="utf-8")
    cat, book = load_catalogue(str(other)), load_rulebook(str(other))
    now = decide(parse_claim(NAGANO, cat), book, cat, {"source": "ledger", "ledger": {}})
    with Ledger(str(desk.path)) as led:
        was = led.find(seq=1).decision
    assert now["total_payable"] < was["total_payable"]
    client = TestClient(create_app(Settings(ledger=str(desk.path), rules=str(other), secret="test-secret")),
                        follow_redirects=False)
    client.tokens = desk.tokens
    for lang, yen, changed in (("en", " yen", "The decision changed"), ("ja", "円", "判定が変わりました")):
        csrf = login(client, "auditor", lang)
        page = client.post(f"/desk/{lang}/ledger/records/1/replay", data={"csrf": csrf})
        assert page.status_code == 200 and changed in page.text
        rows = _replay_table(page.text)
        assert rows["rulebook"][1].endswith(f"{was['rulebook']['sha256'][:12]}…")
        assert rows["rulebook"][2].endswith(f"{book.sha256[:12]}…") and book.sha256 != was["rulebook"]["sha256"]
        assert rows["total"][1:] == [f"{was['total_payable']:,}{yen}", f"{now['total_payable']:,}{yen}"]
        assert rows["coverage-brand_protect"][2].endswith(f"{now['coverages']['brand_protect']['payable']:,}{yen}")
        assert "coverage-liability" not in rows  # damages and litigation costs carry no co-insurance
        # public notice (line 4, 2,500,000 claimed): 90% = 2,250,000 as recorded, 80% = 2,000,000 now
        assert rows["line-4"][1].endswith(f"2,250,000{yen}") and rows["line-4"][2].endswith(f"2,000,000{yen}")
        assert {k for k in rows if k.startswith("line-")} == {
            f"line-{a['index'] + 1}" for a, b in zip(was["lines"], now["lines"]) if a["paid"] != b["paid"]}
        assert "line-1" not in rows and "line-2" not in rows
        if lang == "ja":
            assert "社告・謝罪広告" in rows["line-4"][0] and rows["total"][0] == "お支払額合計"
            assert "<th>ハッシュ（SHA-256）</th>" in page.text  # the record's own rows are in Japanese too
            assert rows["coverage-brand_protect"][2].startswith("補償対象 ")
        else:
            assert "public notice" in rows["line-4"][0] and rows["coverage-brand_protect"][2].startswith("covered ")
    with Ledger(str(desk.path)) as led:  # the replay records nothing
        assert led.find(seq=1).decision == was
        with pytest.raises(LedgerError):
            led.find(seq=2)


def test_every_field_and_choice_of_the_form_has_a_label_in_both_languages():
    """The form is built from the contract: a field added there without a desk.yaml label would show
    its contract id (`software_defect_caused`) to a handler."""
    from adjudicator.engine.rulebook import load_rulebook
    from adjudicator.policy.catalogue import load_catalogue
    from adjudicator.service.desk.labels import Labels
    labels = Labels(load_rulebook(), {p: prog.label for p, prog in load_catalogue().programmes.items()})
    missing = []  # a Japanese label is never the ASCII id; an English one may be ("clinic")
    for path, node in forms.INDEX.items():
        if labels.field(path, "ja") == path.rsplit(".", 1)[-1] or not labels.field(path, "en"):
            missing.append(path)
        missing += [f"{path}={value}" for value in node.choices if labels.choice(path, value, "ja") == value]
    assert missing == []


def test_the_desk_labels_fields_and_values_by_the_rulebook_it_serves(desk, tmp_path):
    """rules/desk.yaml's field and value labels reach the desk through the rulebook (read once, with the
    documents' labels), not from a second read of the file; the pages' own words come from the folder
    that rulebook was read from."""
    from adjudicator.engine.rulebook import load_rulebook
    from adjudicator.service.desk.labels import Labels
    d = desk.app.state.desk
    assert d.labels.fields is d.ctx.book.labels["fields"] and d.labels.choices is d.ctx.book.labels["choices"]
    book = load_rulebook()
    relabelled = book.model_copy(update={"labels": {
        "fields": {**book.labels["fields"], "claim_id": {"ja": "受付番号", "en": "Reference"}},
        "choices": {**book.labels["choices"], "incident.cause": {"human_error": {"ja": "過失", "en": "A slip"}}}}})
    labels = Labels(relabelled)
    assert labels.field("claim_id", "en") == "Reference" and labels.field("claim_id", "ja") == "受付番号"
    assert labels.choice("incident.cause", "human_error", "en") == "A slip"
    assert labels.field("policy.policy_number", "en") == "Policy number"  # the rest as desk.yaml says
    # a rules folder of its own: the desk's page words are that folder's desk.yaml
    import shutil
    from adjudicator.policy.catalogue import rules_dir
    root = tmp_path / "rules"
    shutil.copytree(rules_dir(), root)
    p = root / "desk.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace('en: "Claims desk"', 'en: "Claims counter"'), encoding="utf-8")
    other = TestClient(create_app(Settings(ledger=str(desk.path), secret="test-secret", rules=str(root))))
    page = other.get("/desk/en/login").text
    assert "Claims counter" in page and "Claims desk" not in page
    assert "Claims desk" in desk.get("/desk/en/login").text


def test_an_unclaimed_benefit_is_flagged_on_the_work_list_until_marked_on_the_record_page(desk):
    csrf = login(desk, "handler", "ja")
    fk = yaml.safe_load((EXAMPLES / "fukuoka_seed_example.yaml").read_text(encoding="utf-8"))
    claim = dict(fk, claim_id="FK-DESK-U", policy=dict(fk["policy"], policy_number="FK-U-1", jma_member=True))
    r = desk.post("/desk/ja/claims/record", data={"csrf": csrf, "claim": json.dumps(claim, default=str)})
    assert r.status_code in (200, 303), r.text
    work = desk.get("/desk/ja/work?scope=all").text
    row = re.search(r'<tr[^>]*data-claim="FK-DESK-U">.*?</tr>', work, flags=re.S).group(0)
    flag = re.search(r'class="warn unclaimed-flag" href="/desk/ja/ledger/records/(\d+)#unclaimed">未案内の給付 (\d+)</a>', row)
    seq, count = int(flag.group(1)), int(flag.group(2))
    page = desk.get(f"/desk/ja/ledger/records/{seq}").text
    assert '<h3 id="unclaimed">' in page and "サイバー攻撃一時支援金" in page and page.count('class="handling-form benefit-form"') == count
    bad = desk.post("/desk/ja/claims/FK-DESK-U/benefit", data={"csrf": csrf, "key": "jma-support:cyber_support",
                                                              "action": "told", "on": ""})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    for key in re.findall(r'name="key" value="([^"]+)"', page):
        r = desk.post("/desk/ja/claims/FK-DESK-U/benefit", data={"csrf": csrf, "key": key, "action": "told",
                                                                 "on": "2025-09-01"})
        assert r.status_code == 303, r.text
    done = desk.get(r.headers["location"].split("#")[0]).text
    assert done.count('class="mark-done"') == count and "benefit-form" not in done
    row = re.search(r'<tr[^>]*data-claim="FK-DESK-U">.*?</tr>', desk.get("/desk/ja/work?scope=all").text, flags=re.S)
    assert row is None or "unclaimed-flag" not in row.group(0)
    # without the form's token the mark is refused
    assert desk.post("/desk/ja/claims/FK-DESK-U/benefit", data={"key": "x", "action": "told",
                                                               "on": "2025-09-01"}).status_code in (400, 403)


def test_a_claim_without_loss_lines_goes_through_the_form(desk):
    """A JMA support claim has no loss lines: the form's row starts with nothing chosen (its category
    offers an empty choice), so an untouched row is no line and the claim is decided."""
    csrf = login(desk, "handler")
    page = desk.get("/desk/en/claims/new").text
    select = re.search(r'<select[^>]*name="losses\[0\]\.category".*?</select>', page, re.S).group(0)
    assert re.search(r'<option value="">', select) and " selected" not in select
    jma = {"programme": "jma-support", "claim_id": "JMA-FORM-1",
           "policy": {"policy_number": "JMA-1", "facility": "clinic", "jma_member": True},
           "incident": {"cause": "cyber_attack", "occurred_on": "2025-05-01", "discovered_on": "2025-05-02",
                        "discovered_by": "self", "attack": {"kind": "ransomware", "status": "confirmed"},
                        "reports": ["jma", "mhlw"]}}
    values = forms.values_from_claim(jma)
    values.update({"losses[0].category": "", "losses[0].amount": "", "csrf": csrf})
    r = desk.post("/desk/en/claims/decide", data=values)
    assert r.status_code == 200, re.findall(r'class="field-error"[^>]*>([^<]*)', r.text)
    assert 'id="summary"' in r.text


def test_a_problem_of_a_list_member_is_shown_beside_the_list(desk):
    """A bad member of a list (incident.reports[1], e.g. a value posted by hand) is shown beside the list."""
    csrf = login(desk, "handler")
    values = forms.values_from_claim(NAGANO)
    values.update({"incident.reports": ["jma", "police"], "csrf": csrf})
    r = desk.post("/desk/en/claims/decide", data=values)
    assert r.status_code == 422
    beside = re.findall(r'class="field-error" role="alert" data-field="([^"]+)">([^<]*)', r.text)
    assert [f for f, m in beside if "police" in m] == ["incident.reports"]
    from adjudicator.service.desk import routes
    assert routes._placed("incident.reports[3]") == "incident.reports"
    assert routes._placed("losses[2].amount") == "losses[2].amount"
    assert routes._placed("nowhere[1]") == "nowhere[1]"


def test_a_refusal_reads_nothing_payable_never_unpaid_on_the_work_list_ledger_and_record(desk):
    csrf = login(desk, "handler", "ja")
    refused = copy.deepcopy(NAGANO)
    refused.update(claim_id="NG-DESK-REFUSED")
    refused["incident"]["acts"]["intentional"] = "named_insured"  # 004 §7: the named insured's intent
    r = desk.post("/desk/ja/claims/record", data={"csrf": csrf, "claim": json.dumps(refused)})
    assert r.status_code in (200, 303), r.text
    row = re.search(r'<tr[^>]*data-claim="NG-DESK-REFUSED">.*?</tr>', desk.get("/desk/ja/work?scope=all").text,
                    flags=re.S)
    assert row, "a refusal waits for its second review on the work list"
    assert "支払額なし" in row.group(0) and "未払" not in row.group(0)
    ledger = desk.get("/desk/en/ledger?claim_id=NG-DESK-REFUSED").text
    cells = re.search(r'<table id="records">.*?</table>', ledger, flags=re.S).group(0)
    assert "nothing payable" in cells and "unpaid" not in cells
    # the status filter offers every status a row shows, and finds the refusal by its own
    found = desk.get("/desk/en/ledger?status=nothing_payable").text
    assert '<option value="nothing_payable" selected>nothing payable</option>' in found
    assert "NG-DESK-REFUSED" in found
    assert "NG-DESK-REFUSED" not in desk.get("/desk/en/ledger?status=unpaid").text
    with Ledger(str(desk.path)) as led:
        seq = led.state("NG-DESK-REFUSED")["seq"]
    record = desk.get(f"/desk/ja/ledger/records/{seq}").text
    assert "支払額なし" in record


def test_the_record_page_reads_each_payment_status_as_the_ledger_does(desk):
    """The record page's status is the ledger's payment_status of that record's decision and clock:
    needs information, paid, unpaid, and a refusal's nothing payable (never 未払); a decision record keeps
    the status it had when the claim's later clock record paid it."""
    csrf = login(desk, "handler", "en")
    fk = json.loads(json.dumps(yaml.safe_load((EXAMPLES / "fukuoka_seed_example.yaml").read_text(encoding="utf-8")),
                               default=str))
    waiting = copy.deepcopy(fk)
    del waiting["incident"]["cause"]  # the engine asks for it
    refused = copy.deepcopy(NAGANO)
    refused["incident"]["acts"]["intentional"] = "named_insured"  # 004 §7: nothing payable, nothing asked for
    claims = {"ST-UNPAID": dict(fk, policy=dict(fk["policy"], policy_number="ST-1")),
              "ST-WAIT": dict(waiting, policy=dict(fk["policy"], policy_number="ST-2")),
              "ST-PAID": dict(fk, policy=dict(fk["policy"], policy_number="ST-3"),
                              payment={"completed_on": "2025-12-01", "paid_on": "2025-12-10"}),
              "ST-REFUSED": dict(refused, policy=dict(refused["policy"], policy_number="ST-4"))}
    for cid, claim in claims.items():
        r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(dict(claim, claim_id=cid))})
        assert r.status_code in (200, 303), r.text
    words = {"needs_information": "needs information", "paid": "paid", "unpaid": "unpaid",
             "nothing_payable": "nothing payable"}
    status_cell = lambda seq: re.search(r"<tr><th>Status</th><td>([^<]*)</td></tr>",  # noqa: E731
                                        desk.get(f"/desk/en/ledger/records/{seq}").text).group(1)
    with Ledger(str(desk.path)) as led:
        rows = {x["claim_id"]: x for x in led.search(claim_id="ST-")[1]}
    assert {cid: x["status"] for cid, x in rows.items()} == {
        "ST-UNPAID": "unpaid", "ST-WAIT": "needs_information", "ST-PAID": "paid", "ST-REFUSED": "nothing_payable"}
    for cid, x in rows.items():
        assert status_cell(x["seq"]) == words[x["status"]], cid
    decision_seq = rows["ST-UNPAID"]["seq"]
    for action, values in (("complete", {"completed_on": "2025-12-01"}), ("paid", {"paid_on": "2025-12-20"})):
        r = desk.post("/desk/en/claims/ST-UNPAID/clock", data={"csrf": csrf, "action": action, **values})
        assert r.status_code == 303, r.text
    with Ledger(str(desk.path)) as led:
        paid_seq = led.state("ST-UNPAID")["seq"]
    assert paid_seq > decision_seq and status_cell(paid_seq) == "paid" and status_cell(decision_seq) == "unpaid"
