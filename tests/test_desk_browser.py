"""The claims desk (issue 12) in a real browser: Debian's Chromium driven by Selenium against a real
`adjudicator serve` process on a free localhost port with a temporary ledger.

Without Chromium these skip, saying how to install it; where ADJUDICATOR_REQUIRE_BROWSER=1 (.ci/run)
a missing browser is a failure, so CI always runs them. Screenshots of every page in ja and en at
1280 px go to $DESK_SCREENSHOTS (default: the test's temporary folder).
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from support import EXAMPLES, ROOT

from adjudicator import adjudicate
from adjudicator.ledger import Ledger
from adjudicator.policy.catalogue import load_catalogue

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver fonts-noto-cjk"
ROLES = ("handler", "underwriter", "auditor", "admin")
WIDTH = 1280

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover - selenium is in the test extras
    HAVE_SELENIUM = False


def _need_browser() -> None:
    missing = [n for n, ok in (("chromium", CHROMIUM), ("chromedriver", DRIVER), ("selenium", HAVE_SELENIUM)) if not ok]
    if not missing:
        return
    msg = f"the desk's browser tests need {', '.join(missing)}: {INSTALL} (and pip install -e '.[test]')"
    if os.environ.get("ADJUDICATOR_REQUIRE_BROWSER") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _claim(name: str) -> dict:
    return json.loads(json.dumps(yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8")), default=str))


NAGANO = _claim("nagano_seed_example.yaml")
NAGANO["policy"]["policy_number"] = "NG-DESK-1"  # recorded claims carry one: the ledger keeps aggregates by it


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _need_browser()
    tmp = tmp_path_factory.mktemp("desk")
    path = tmp / "ledger.sqlite"
    with Ledger(str(path)) as led:
        tokens = {role: led.add_user(f"{role}-1", role) for role in ROLES}
        tokens["handler2"] = led.add_user("handler-2", "handler")  # a second handler: the second review
    with _serve(path, tmp / "serve.log") as base:
        yield {"base": base, "tokens": tokens, "ledger": path, "log": tmp / "serve.log"}


@contextlib.contextmanager
def _serve(ledger: Path, log_path: Path, *extra: str):
    """`adjudicator serve` on a free port over `ledger` (extra: more serve options), until the block ends;
    its log must hold no traceback."""
    port = _free_port()
    log = open(log_path, "w+", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "adjudicator", "serve", "--port", str(port), "--ledger", str(ledger),
                             *extra], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.seek(0)
        text = log.read()
        log.close()
    assert "Traceback" not in text


@pytest.fixture(scope="module")
def browser(server):
    o = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", f"--window-size={WIDTH},1000", "--lang=ja"):
        o.add_argument(a)
    o.binary_location = CHROMIUM
    driver = webdriver.Chrome(options=o, service=Service(DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("DESK_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def login(driver, server, role: str, lang: str = "en", with_name: bool = True) -> None:
    driver.delete_all_cookies()
    driver.get(f"{server['base']}/desk/{lang}/login")
    if with_name:
        driver.find_element(By.ID, "name").send_keys(f"{role}-1")
    driver.find_element(By.ID, "token").send_keys(server["tokens"][role])
    follow(driver, driver.find_element(By.ID, "login"))
    WebDriverWait(driver, 20).until(lambda d: "/login" not in d.current_url)


def text_of(driver, by, what, seconds: int = 30) -> str:
    """The element's text, once the page that has it has loaded (a click may still be navigating)."""
    return settle(driver, seconds).until(lambda d: d.find_element(by, what)).text


def follow(driver, element, seconds: int = 30) -> None:
    """Click what loads a new page, and wait until that page has replaced the old one: a wait for an
    element that both pages have (#form-errors after a second submit) must not find the old page's."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    settle(driver, seconds).until(lambda d: old.id != d.find_element(By.TAG_NAME, "html").id
                                  and d.execute_script("return document.readyState") == "complete")


def set_value(driver, name: str, value: str) -> None:
    """Type into an input (dates through the DOM: Chromium's date widget is locale-shaped)."""
    el = driver.find_element(By.NAME, name)
    if el.get_attribute("type") == "date":
        driver.execute_script("arguments[0].value = arguments[1]", el, value)
    else:
        el.clear()
        el.send_keys(value)


def choose(driver, name: str, value: str) -> None:
    Select(driver.find_element(By.NAME, name)).select_by_value(value)


def tick(driver, name: str, value: str) -> None:
    el = driver.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']")
    if not el.is_selected():
        el.click()


def paste_claim(driver, server, claim: dict, lang: str = "en") -> None:
    driver.get(f"{server['base']}/desk/{lang}/claims/new")
    area = driver.find_element(By.ID, "text")
    driver.execute_script("arguments[0].value = arguments[1]", area, yaml.safe_dump(claim, allow_unicode=True))
    follow(driver, driver.find_element(By.ID, "adjudicate-file"))
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "summary") or d.find_elements(By.ID, "file-errors"))


def total(driver) -> str:
    return text_of(driver, By.ID, "summary-total")


def record_claim(driver) -> None:
    follow(driver, driver.find_element(By.ID, "record"))
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "recorded") or d.find_elements(By.ID, "duplicate"))


# ---------------------------------------------------------------------------- the tests
def test_log_in_with_name_and_token_or_token_alone(browser, server):
    browser.delete_all_cookies()
    browser.get(f"{server['base']}/desk/en/claims/new")
    assert "/desk/en/login" in browser.current_url  # not logged in: the login page
    browser.find_element(By.ID, "token").send_keys("not-a-token")
    follow(browser, browser.find_element(By.ID, "login"))
    assert "Unknown user name or token" in text_of(browser, By.ID, "login-error")
    login(browser, server, "handler", "en")
    assert browser.current_url.endswith("/desk/en/claims/new")
    assert "handler-1" in text_of(browser, By.ID, "user")
    cookie = browser.get_cookie("desk_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert server["tokens"]["handler"] not in cookie["value"]
    assert browser.execute_script("return document.cookie") == ""  # HttpOnly: no script can read it
    follow(browser, browser.find_element(By.ID, "logout"))
    WebDriverWait(browser, 10).until(lambda d: "/login" in d.current_url)
    login(browser, server, "underwriter", "ja", with_name=False)  # the token alone
    assert browser.current_url.endswith("/desk/ja/scenarios")


def test_nagano_claim_through_the_form_pays_the_seed_example(browser, server):
    login(browser, server, "handler", "en")
    browser.get(f"{server['base']}/desk/en/claims/new")
    choose(browser, "programme", "nagano-privacy-2016")
    # the plan list follows the programme: only Nagano's plans can be chosen
    enabled = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "[data-plan-select] option")
               if o.is_enabled() and o.get_attribute("value")]
    assert enabled == ["A", "B", "C", "D"]
    choose(browser, "policy.plan", "D")
    choose(browser, "policy.facility", "hospital")
    set_value(browser, "claim_id", "NG-FORM-1")
    inc = NAGANO["incident"]
    for f in ("occurred_on", "discovered_on", "claim_made_on"):
        set_value(browser, f"incident.{f}", inc[f])
    choose(browser, "incident.cause", inc["cause"])
    choose(browser, "incident.discovered_by", inc["discovered_by"])
    choose(browser, "incident.leak.status", "confirmed")
    set_value(browser, "incident.leak.personal_records", "3,000")
    tick(browser, "incident.leak.subjects", "patients")
    choose(browser, "incident.leak.corporate_info", "false")
    choose(browser, "incident.leak.obtained_by_deceit", "false")
    for e in inc["evidence"]:
        tick(browser, "incident.evidence", e)
        set_value(browser, f"incident.evidence_dates.{e}", inc["evidence_dates"][e])  # 004 §5: in the period
    # a line added and removed again, then the eight lines of the example
    browser.find_element(By.ID, "add-line").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#losses tr.row")) == 2
    browser.find_elements(By.CSS_SELECTOR, "#losses [data-remove-row]")[1].click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#losses tr.row")) == 1
    for i, line in enumerate(NAGANO["losses"]):
        if i:
            browser.find_element(By.ID, "add-line").click()
        choose(browser, f"losses[{i}].category", line["category"])
        set_value(browser, f"losses[{i}].amount", f"{line['amount']:,}")
        if "persons" in line:
            set_value(browser, f"losses[{i}].persons", str(line["persons"]))
    follow(browser, browser.find_element(By.ID, "adjudicate"))
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "summary"))
    assert total(browser) == "16,347,500"
    assert not browser.find_elements(By.ID, "provisional")
    rows = browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr")
    assert len(rows) == 8
    assert "16,347,500" in text_of(browser, By.ID, "document")  # the explanation document is on the page


def test_field_errors_appear_beside_the_field_in_the_page_language(browser, server):
    login(browser, server, "handler", "ja")
    browser.get(f"{server['base']}/desk/ja/claims/new")
    choose(browser, "programme", "nagano-privacy-2016")
    set_value(browser, "incident.occurred_on", "2016-06-10")
    set_value(browser, "incident.discovered_on", "2016-06-01")
    choose(browser, "losses[0].category", "public_notice")
    set_value(browser, "losses[0].amount", "十万")
    follow(browser, browser.find_element(By.ID, "adjudicate"))
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "form-errors"))
    amount = browser.find_element(By.CSS_SELECTOR, ".field-error[data-field='losses[0].amount']")
    assert "整数" in amount.text and "十万" in amount.text
    # the value typed stays in its field
    assert browser.find_element(By.NAME, "losses[0].amount").get_attribute("value") == "十万"
    set_value(browser, "losses[0].amount", "100000")
    follow(browser, browser.find_element(By.ID, "adjudicate"))
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "form-errors"))
    errs = {e.get_attribute("data-field"): e.text for e in browser.find_elements(By.CSS_SELECTOR, ".field-error")}
    assert "より前の日付にはできません" in errs["incident.discovered_on"]
    assert "nagano-privacy-2016 では必須" in errs["policy.facility"]
    assert "nagano-privacy-2016 では必須" in errs["policy.plan"]


def test_a_missing_fact_is_asked_answered_in_place_and_the_decision_changes(browser, server):
    login(browser, server, "handler", "en")
    claim = copy.deepcopy(NAGANO)
    del claim["incident"]["evidence"]
    paste_claim(browser, server, claim)
    assert "provisional" in total(browser)
    assert total(browser).startswith("7,875,000")
    on_hold = sum(ln["amount"] for ln in NAGANO["losses"] if ln["category"] not in ("mental_distress", "litigation_costs"))
    assert f"{on_hold:,}" in text_of(browser, By.ID, "on-hold")
    question = browser.find_element(By.CSS_SELECTOR, "form.question[data-question='incident.evidence']")
    assert "Accepted values" in question.text and "apology letters sent" in question.text
    for e in NAGANO["incident"]["evidence"]:
        question.find_element(By.CSS_SELECTOR, f"input[value='{e}']").click()
    follow(browser, question.find_element(By.CSS_SELECTOR, "button.answer"))
    WebDriverWait(browser, 30).until(lambda d: not d.find_elements(By.ID, "provisional"))
    assert total(browser) == "16,347,500"
    assert not browser.find_elements(By.ID, "questions")
    # the same decision in Japanese: the language switch carries the claim as answered
    follow(browser, browser.find_element(By.ID, "lang-switch"))
    WebDriverWait(browser, 30).until(lambda d: "/desk/ja/" in d.current_url)
    assert total(browser) == "16,347,500" and "損害項目の要約" in text_of(browser, By.TAG_NAME, "main")


def test_two_claims_on_one_policy_the_second_draws_on_what_the_first_left(browser, server):
    login(browser, server, "handler", "en")
    first = copy.deepcopy(NAGANO)
    first["claim_id"], first["policy"] = "NG-POOL-1", {"plan": "A", "facility": "hospital", "policy_number": "NP-77"}
    second = copy.deepcopy(first)
    second["claim_id"] = "NG-POOL-2"
    d1 = adjudicate(first)
    keys = {c: spec["prior_payments_key"] for c, spec in load_catalogue()["nagano-privacy-2016"].coverages.items()}
    prior = {keys[c]: e["payable"] for c, e in d1["coverages"].items()}
    d2 = adjudicate(dict(copy.deepcopy(second), prior_payments=prior))  # what the ledger must give the second
    assert 0 < d2["total_payable"] < d1["total_payable"]
    assert any(s["step"] == "aggregate_remaining" and s["cut"] for ln in d2["lines"] for s in ln["steps"])
    paste_claim(browser, server, first)
    record_claim(browser)
    assert total(browser) == f"{d1['total_payable']:,}"
    paste_claim(browser, server, second)
    assert total(browser) == f"{d1['total_payable']:,}"  # before recording: nothing known of the first
    record_claim(browser)
    assert browser.find_elements(By.ID, "recorded")
    assert total(browser) == f"{d2['total_payable']:,}"  # recorded: the ledger's prior payments apply
    meta = browser.find_element(By.CSS_SELECTOR, "main .meta").text  # what the ledger holds as paid on the policy
    assert "ledger" in meta and "liability" in meta
    # the policy page: the pool's used and left, and the claims that used it
    browser.get(f"{server['base']}/desk/en/ledger/policy/NP-77")
    pool, combined = browser.find_elements(By.CSS_SELECTOR, "#pools tbody tr")
    used = d1["coverages"]["liability"]["payable"] + d2["coverages"]["liability"]["payable"]
    assert pool.find_element(By.CSS_SELECTOR, ".pool-used").text == f"{used:,}"
    assert pool.find_element(By.CSS_SELECTOR, ".pool-left").text == f"{10_000_000 - used:,}"
    assert "NG-POOL-1" in pool.text and "NG-POOL-2" in pool.text
    # 004 §5 注①: liability and brand protect together are capped by the liability limit — all used
    both = d1["total_payable"] + d2["total_payable"]
    assert "004 §5 注①" in combined.text
    assert combined.find_element(By.CSS_SELECTOR, ".pool-used").text == f"{both:,}"
    assert combined.find_element(By.CSS_SELECTOR, ".pool-left").text == f"{max(10_000_000 - both, 0):,}"
    # recording the same claim id again asks for an explicit re-adjudication
    paste_claim(browser, server, second)
    record_claim(browser)
    assert "already in the ledger" in text_of(browser, By.ID, "duplicate")
    follow(browser, browser.find_element(By.ID, "readjudicate"))
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "recorded"))
    assert total(browser) == f"{d2['total_payable']:,}"  # a re-adjudication replaces, never adds to, itself


def test_an_auditor_opens_a_record_and_cannot_record(browser, server):
    login(browser, server, "handler", "en")
    claim = dict(copy.deepcopy(NAGANO), claim_id="NG-AUDIT-1")
    paste_claim(browser, server, claim)
    record_claim(browser)
    seq = text_of(browser, By.ID, "recorded").rsplit("#", 1)[1]
    login(browser, server, "auditor", "en")
    browser.get(f"{server['base']}/desk/en/ledger?claim_id=NG-AUDIT-1")
    follow(browser, browser.find_element(By.LINK_TEXT, f"#{seq}"))
    assert "This record's hash matches its content" in text_of(browser, By.ID, "hash-check")
    assert "NG-AUDIT-1" in text_of(browser, By.TAG_NAME, "h1")
    follow(browser, browser.find_element(By.ID, "verify"))
    assert "The hash chain verifies" in text_of(browser, By.ID, "chain")
    follow(browser, browser.find_element(By.ID, "replay"))
    assert "identical" in text_of(browser, By.ID, "replayed")
    assert not browser.find_elements(By.ID, "record")
    nav = text_of(browser, By.CSS_SELECTOR, "header nav")
    assert "New claim" not in nav and "Ledger" in nav
    browser.get(f"{server['base']}/desk/en/claims/new")
    assert "Your role may not do this" in text_of(browser, By.ID, "message")
    # and a form posted by hand is refused the same way, writing nothing (the refusal page that follows
    # has a #message too: wait for the new page, not the old one's element)
    old = browser.find_element(By.TAG_NAME, "html")
    browser.execute_script("""
        const f = document.createElement('form'); f.method = 'post'; f.action = '/desk/en/claims/record';
        const c = document.createElement('input'); c.name = 'claim'; c.value = arguments[0]; f.appendChild(c);
        document.body.appendChild(f); f.submit();""", json.dumps(dict(claim, claim_id="NG-AUDIT-2")))
    settle(browser).until(lambda d: old.id != d.find_element(By.TAG_NAME, "html").id
                          and d.execute_script("return document.readyState") == "complete")
    assert text_of(browser, By.ID, "message")  # refused: no session CSRF token, or the role may not record
    with Ledger(str(server["ledger"])) as led:
        assert led.exists("NG-AUDIT-2") is None


def test_a_replay_under_a_changed_rulebook_shows_what_changed(browser, server, shots, tmp_path):
    """Recorded under the project's rulebook; replayed by a second `serve --rules` over the same ledger,
    whose copy of the Nagano catalogue pays 80% instead of 90%: the record page shows the two
    rulebooks, the totals and the loss lines that changed, in ja and en."""
    login(browser, server, "handler", "en")
    claim = dict(copy.deepcopy(NAGANO), claim_id="NG-REPLAY-1")
    claim["policy"]["policy_number"] = "NG-REPLAY"
    paste_claim(browser, server, claim)
    recorded_total = total(browser)
    record_claim(browser)
    seq = text_of(browser, By.ID, "recorded").rsplit("#", 1)[1]
    other = tmp_path / "rules-80"
    shutil.copytree(ROOT / "rules", other)
    prog = other / "programmes" / "nagano-privacy-2016.yaml"
    text = prog.read_text(encoding="utf-8")
    assert text.count("percent: {value: 90,") == 1
    prog.write_text(text.replace("percent: {value: 90,", "percent: {value: 80,"), encoding="utf-8")
    with _serve(server["ledger"], tmp_path / "serve-80.log", "--rules", str(other)) as base:
        for lang, changed, yen in (("ja", "判定が変わりました", "円"), ("en", "The decision changed", " yen")):
            login(browser, dict(server, base=base), "auditor", lang)
            browser.get(f"{base}/desk/{lang}/ledger/records/{seq}")
            follow(browser, browser.find_element(By.ID, "replay"))
            assert changed in text_of(browser, By.ID, "replayed")
            cells = {row.get_attribute("data-change"): [c.text for c in row.find_elements(By.CSS_SELECTOR, "th, td")]
                     for row in browser.find_elements(By.CSS_SELECTOR, "#replay-changes tbody tr")}
            assert cells["total"][1] == f"{recorded_total}{yen}" and cells["total"][2] != cells["total"][1]
            # public notice, 2,500,000 claimed: 90% as recorded, 80% under the copy
            assert cells["line-4"][1].endswith(f"2,250,000{yen}") and cells["line-4"][2].endswith(f"2,000,000{yen}")
            assert "line-1" not in cells and cells["rulebook"][1] != cells["rulebook"][2]
            if lang == "ja":
                assert "社告・謝罪広告" in cells["line-4"][0] and cells["total"][0] == "お支払額合計"
            browser.find_element(By.ID, "replayed").screenshot(str(shots / f"replay-changes-{lang}.png"))
            _check_page(browser, shots, f"replay-changed-{lang}", lang)


def test_a_scenario_with_a_wrong_amount_fails_readably(browser, server, shots):
    login(browser, server, "underwriter", "en")
    browser.get(f"{server['base']}/desk/en/scenarios")
    area = browser.find_element(By.ID, "gherkin")
    text = area.get_attribute("value").replace("16,347,500 yen", "16,000,000 yen")
    driver_set(browser, area, text)
    follow(browser, browser.find_element(By.ID, "run"), 90)
    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.ID, "result"))
    result = text_of(browser, By.ID, "result")
    assert "failed" in result
    assert "the total payable is 16,000,000 yen" in result
    assert browser.find_element(By.CSS_SELECTOR, ".failure .expected").text == "total 16,000,000 yen"
    assert browser.find_element(By.CSS_SELECTOR, ".failure .actual").text == "total 16,347,500 yen"
    assert "co-insurance" in result  # the waterfall steps that cut the amount
    _check_page(browser, shots, "scenarios-failed-en", "en")
    # in Japanese: the verdict, expected and actual in the scenario's language
    browser.get(f"{server['base']}/desk/ja/scenarios")
    area = browser.find_element(By.ID, "gherkin")
    driver_set(browser, area, area.get_attribute("value").replace("16,347,500 円", "16,000,000 円"))
    follow(browser, browser.find_element(By.ID, "run"), 90)
    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.ID, "result"))
    assert "不合格" in text_of(browser, By.CSS_SELECTOR, ".verdict")
    assert browser.find_element(By.CSS_SELECTOR, ".failure .expected").text == "支払額合計は 16,000,000 円"
    assert "期待" in text_of(browser, By.ID, "result") and "差を生んだ算定段階" in text_of(browser, By.ID, "result")
    browser.get(f"{server['base']}/desk/ja/scenarios")
    follow(browser, browser.find_element(By.ID, "run"), 90)
    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.ID, "result"))
    assert text_of(browser, By.CSS_SELECTOR, ".verdict") == "合格"
    _check_page(browser, shots, "scenarios-passed-ja", "ja")


def settle(driver, seconds: int = 30) -> WebDriverWait:
    """A wait that rides over the page being replaced under it (a form posted, the next page loading)."""
    return WebDriverWait(driver, seconds, ignored_exceptions=[NoSuchElementException, StaleElementReferenceException])


def latest_seq(server, claim_id: str) -> int:
    with Ledger(str(server["ledger"])) as led:
        return led.state(claim_id)["seq"]


def open_claim(browser, server, claim_id: str, lang: str) -> None:
    browser.get(f"{server['base']}/desk/{lang}/ledger/records/{latest_seq(server, claim_id)}")


def post_form(browser, form_id: str, **values) -> None:
    form = browser.find_element(By.ID, form_id)
    for name, value in values.items():
        el = form.find_element(By.NAME, name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        else:
            driver_set(browser, el, value)
    follow(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def test_the_work_list_gives_due_dates_overdue_first_and_marks_payment(browser, server, shots):
    login(browser, server, "handler", "ja")
    for cid in ("NG-WORK-1", "NG-WORK-2"):
        paste_claim(browser, server, dict(copy.deepcopy(NAGANO), claim_id=cid), "ja")
        record_claim(browser)
    waiting = copy.deepcopy(NAGANO)
    waiting["claim_id"] = "NG-WORK-3"
    del waiting["incident"]["evidence"]
    paste_claim(browser, server, waiting, "ja")
    record_claim(browser)
    # NG-WORK-1 completed long ago: 30 days later it is overdue (000 §18)
    open_claim(browser, server, "NG-WORK-1", "ja")
    post_form(browser, "clock-complete", completed_on="2020-01-10")
    assert text_of(browser, By.ID, "clock-due") == "2020-02-09"
    # NG-WORK-2: an extension agreed for reason ② ; a date before the 30-day due date is refused beside the field
    open_claim(browser, server, "NG-WORK-2", "ja")
    post_form(browser, "clock-complete", completed_on="2099-01-01")
    post_form(browser, "clock-extend", reason="expert_appraisal", to="2099-01-20")
    err = browser.find_element(By.CSS_SELECTOR, "#clock-extend .field-error[data-field='to']")
    assert "30日後より後" in err.text
    _check_page(browser, shots, "claim-clock-error-ja", "ja")
    browser.find_element(By.ID, "handling").screenshot(str(shots / "claim-clock-error-ja-handling.png"))
    post_form(browser, "clock-extend", reason="expert_appraisal", to="2099-04-01")  # agreed_on: not after today
    assert text_of(browser, By.ID, "clock-due") == "2099-04-01"
    post_form(browser, "clock-pause", **{"from": "2099-01-05", "to": "2099-01-15", "note": "書類の提出待ち"})
    assert text_of(browser, By.ID, "clock-due") == "2099-04-11"
    _check_page(browser, shots, "claim-clock-ja", "ja")
    browser.find_element(By.ID, "handling").screenshot(str(shots / "claim-clock-ja-handling.png"))
    browser.get(f"{server['base']}/desk/ja/work")
    row = lambda cid: browser.find_element(By.CSS_SELECTOR, f"#work tr[data-claim='{cid}']")  # noqa: E731
    assert "情報待ち" in row("NG-WORK-3").text
    assert "期日超過" in row("NG-WORK-1").text and "未払" in row("NG-WORK-1").find_element(By.CSS_SELECTOR, ".due").text
    assert "期日超過" not in row("NG-WORK-2").text and "2099-04-11" in row("NG-WORK-2").text
    order = [tr.get_attribute("data-claim") for tr in browser.find_elements(By.CSS_SELECTOR, "#work tbody tr")]
    assert order.index("NG-WORK-1") < order.index("NG-WORK-2") < order.index("NG-WORK-3")
    assert order[0] == "NG-WORK-1"  # an overdue claim heads the work list
    _check_page(browser, shots, "work-clock-ja", "ja")
    login(browser, server, "handler", "en")
    browser.get(f"{server['base']}/desk/en/work")
    assert "UNPAID" in row("NG-WORK-1").text
    _check_page(browser, shots, "work-clock-en", "en")
    # the payment stops the clock: the claim leaves the work list
    open_claim(browser, server, "NG-WORK-1", "en")
    post_form(browser, "clock-paid", paid_on="2020-03-01")
    assert text_of(browser, By.ID, "clock-paid-on") == "2020-03-01" and not browser.find_elements(By.ID, "clock-paid")
    browser.get(f"{server['base']}/desk/en/work")
    assert not browser.find_elements(By.CSS_SELECTOR, "#work tr[data-claim='NG-WORK-1']")
    browser.get(f"{server['base']}/desk/en/ledger?claim_id=NG-WORK-1&status=paid")
    assert text_of(browser, By.ID, "found") == "1"
    # every step is a record of its own, with who and when; the chain still verifies
    with Ledger(str(server["ledger"])) as led:
        assert led.verify()[0]
        kinds = [(r["kind"], r["recorded_by"]) for r in led.search(claim_id="NG-WORK-1", latest_only=False)[1]]
        assert kinds == [("clock", "handler-1"), ("clock", "handler-1"), ("decision", "handler-1")]


def test_a_refusal_is_final_only_when_another_handler_approves_it(browser, server, shots):
    claim = copy.deepcopy(NAGANO)
    claim["claim_id"], claim["policy"]["policy_number"] = "NG-REVIEW-1", "NG-REV"
    claim["losses"].append({"category": "fine_penalty", "amount": 500_000})  # refused: a cut to review
    login(browser, server, "handler", "ja")
    paste_claim(browser, server, claim, "ja")
    record_claim(browser)
    open_claim(browser, server, "NG-REVIEW-1", "ja")
    assert browser.find_element(By.ID, "review-value").get_attribute("data-state") == "pending_review"
    assert "監査用 判定記録 （案）" in text_of(browser, By.ID, "document")
    assert "支払通知ではありません" in text_of(browser, By.ID, "document")
    assert "004 §5" in text_of(browser, By.ID, "review-why")
    assert browser.find_element(By.ID, "review-own").is_displayed()
    _check_page(browser, shots, "claim-review-pending-ja", "ja")
    browser.find_element(By.ID, "handling").screenshot(str(shots / "claim-review-pending-ja-handling.png"))
    # the account that recorded it cannot finalise it: refused beside the button, nothing recorded
    seq = latest_seq(server, "NG-REVIEW-1")
    follow(browser, browser.find_element(By.ID, "review-approve"))
    settle(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".field-error[data-field='action']"))
    assert "あなたは二次査定できません" in text_of(browser, By.CSS_SELECTOR, ".field-error[data-field='action']")
    assert latest_seq(server, "NG-REVIEW-1") == seq
    # another handler returns it without a note: the note is asked for beside the field
    login(browser, server, "handler2", "en", with_name=False)
    open_claim(browser, server, "NG-REVIEW-1", "en")
    assert not browser.find_elements(By.ID, "review-own")
    follow(browser, browser.find_element(By.ID, "review-return"))
    settle(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".field-error[data-field='note']"))
    assert "Say why" in text_of(browser, By.CSS_SELECTOR, ".field-error[data-field='note']")
    _check_page(browser, shots, "claim-review-error-en", "en")
    browser.find_element(By.ID, "handling").screenshot(str(shots / "claim-review-error-en-handling.png"))
    # ... and approves it: final, no longer a draft
    open_claim(browser, server, "NG-REVIEW-1", "en")
    browser.find_element(By.ID, "review-note-input").send_keys("Fine excluded under 004 §5 <checked>")
    follow(browser, browser.find_element(By.ID, "review-approve"))
    settle(browser).until(lambda d: d.find_elements(By.ID, "review-value")
                          and d.find_element(By.ID, "review-value").get_attribute("data-state") == "approved")
    assert "handler-2" in text_of(browser, By.ID, "review-state")
    assert text_of(browser, By.ID, "review-note") == "Fine excluded under 004 §5 <checked>"  # shown as typed, escaped
    assert "(DRAFT)" not in text_of(browser, By.ID, "document") and not browser.find_elements(By.ID, "review-form")
    _check_page(browser, shots, "claim-review-approved-en", "en")
    browser.find_element(By.ID, "handling").screenshot(str(shots / "claim-review-approved-en-handling.png"))
    with Ledger(str(server["ledger"])) as led:
        st = led.state("NG-REVIEW-1")
        assert st["review"]["by"] == "handler-2" and st["handler"] == "handler-1" and led.verify()[0]


def test_the_ledger_searches_pages_and_exports(browser, server):
    login(browser, server, "auditor", "en")
    browser.get(f"{server['base']}/desk/en/ledger")
    browser.find_element(By.NAME, "policy_number").send_keys("NP-77")
    follow(browser, browser.find_element(By.ID, "search-button"))
    WebDriverWait(browser, 20).until(lambda d: "policy_number=NP-77" in d.current_url)
    ids = [tr.find_elements(By.TAG_NAME, "td")[1].text.split(" ")[0]
           for tr in browser.find_elements(By.CSS_SELECTOR, "#records tbody tr")]
    assert "NG-POOL-1" in ids, (browser.current_url, text_of(browser, By.TAG_NAME, "main"))
    assert "NG-POOL-2" in ids and all(not i.startswith("NG-WORK") for i in ids)
    fetched = {}
    for fmt in ("csv", "jsonl"):
        href = browser.find_element(By.ID, f"export-{fmt}").get_attribute("href")
        assert "policy_number=NP-77" in href
        # the page's CSP lets no script fetch anything; the download is fetched with the browser's session
        req = urllib.request.Request(href, headers={"Cookie": f"desk_session={browser.get_cookie('desk_session')['value']}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert "attachment" in resp.headers["Content-Disposition"]
            fetched[fmt] = resp.read().decode("utf-8")
    lines = fetched["csv"].splitlines()
    assert lines[0].startswith("seq,claim_id,policy_number") and len(lines) - 1 == len(ids)
    assert all(",NP-77," in line for line in lines[1:])
    assert sorted(json.loads(x)["claim_id"] for x in fetched["jsonl"].splitlines()) == sorted(ids)


def driver_set(driver, el, value: str) -> None:
    driver.execute_script("arguments[0].value = arguments[1]", el, value)


PAGES = [("handler", "claims/new"), ("handler", "work"), ("handler", "ledger"), ("auditor", "ledger/records/1"),
         ("handler", "ledger/policy/NP-77"), ("underwriter", "rules"), ("underwriter", "scenarios"),
         ("admin", "users")]


def test_japanese_pages_render_japanese_and_every_page_fits_1280px(browser, server, shots):
    # a decision page and a record to look at (records exist from the tests above when run together)
    login(browser, server, "handler", "ja")
    claim = copy.deepcopy(NAGANO)
    claim["claim_id"], claim["policy"]["policy_number"] = "NG-SHOT-1", "NP-77"
    del claim["incident"]["evidence"]
    for lang in ("ja", "en"):
        login(browser, server, "handler", lang)
        paste_claim(browser, server, claim, lang)
        _check_page(browser, shots, f"decision-{lang}", lang)
    for lang in ("ja", "en"):
        browser.delete_all_cookies()
        browser.get(f"{server['base']}/desk/{lang}/login")
        _check_page(browser, shots, f"login-{lang}", lang)
        for role, path in PAGES:
            login(browser, server, role, lang)
            browser.get(f"{server['base']}/desk/{lang}/{path}")
            assert not browser.find_elements(By.ID, "message"), (path, text_of(browser, By.ID, "message"))
            _check_page(browser, shots, f"{path.replace('/', '-')}-{lang}", lang)
    login(browser, server, "handler", "ja")
    browser.get(f"{server['base']}/desk/ja/claims/new")
    body = text_of(browser, By.TAG_NAME, "body")
    for word in ("新規請求", "保険制度", "事故発生日", "損害項目", "判定する", "媒体の盗難"):
        assert word in body
    # the Japanese font is there: glyphs are drawn, not boxes
    assert browser.execute_script("return document.fonts.check('16px \"Noto Sans CJK JP\"', '新規請求')")


def _check_page(driver, shots: Path, name: str, lang: str) -> None:
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    assert driver.find_elements(By.TAG_NAME, "h1") and not driver.find_elements(By.ID, "message"), name
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{name}: {width}px wide"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WIDTH, min(max(height, 800), 6000))
    driver.save_screenshot(str(shots / f"{name}.png"))
    driver.set_window_size(WIDTH, 1000)


# ---------------------------------------------------------------------------- issue 20: payment omissions
def _fukuoka_member_clinic() -> dict:
    bases = yaml.safe_load((ROOT / "rules" / "test_bases.yaml").read_text(encoding="utf-8"))
    claim = json.loads(json.dumps(bases["fukuoka-cyber-2025"], default=str))
    claim["claim_id"] = "FK-JMA-UNCLAIMED"
    claim["policy"].update(facility="clinic", jma_member=True, policy_number="FK-DESK-20")
    claim["incident"]["reports"] = ["ppc"]   # no report to the MHLW or the JMA yet
    return claim


def test_a_fukuoka_claim_from_a_jma_members_clinic_shows_the_jma_support_unclaimed(browser, server):
    claim = _fukuoka_member_clinic()
    expected = next(u for u in adjudicate(claim)["unclaimed_benefits"] if u["programme"] == "jma-support")
    assert expected["coverage"] == "cyber_support"
    report = next(n["change"]["value"] for n in expected["needs"] if n.get("change"))
    label = {"mhlw": "MHLW", "jma": "JMA"}[report]
    login(browser, server, "handler", "en")
    paste_claim(browser, server, claim)
    section = browser.find_element(By.CSS_SELECTOR, "#document section.unclaimed")
    assert "Cyber-attack support payment" in section.text
    assert f"Reports made: add {label}" in section.text             # what is still missing
    assert "a report to the MHLW or to the JMA" in section.text     # the scheme's report requirement
    login(browser, server, "handler", "ja")
    paste_claim(browser, server, claim, lang="ja")
    section = browser.find_element(By.CSS_SELECTOR, "#document section.unclaimed")
    assert "サイバー攻撃一時支援金" in section.text and "厚生労働省または日本医師会への届出" in section.text


def test_a_why_not_suggestion_applied_in_the_form_pays(browser, server):
    bases = yaml.safe_load((ROOT / "rules" / "test_bases.yaml").read_text(encoding="utf-8"))
    claim = json.loads(json.dumps(bases["fukuoka-cyber-2025"], default=str))
    claim["claim_id"], claim["incident"]["reports"] = "FK-WHY-NOT", []   # no regulatory procedure yet
    claim["incident"]["breach_of_law_recognised"] = False                 # nor a breach of law recognised
    claim["losses"].append({"category": "regulatory_response", "amount": 400000})
    decision = adjudicate(claim)
    suggestion = decision["coverages"]["regulatory_response"]["why_not"]["claimant_can_supply"][0]
    change = suggestion["changes"][0]
    assert (change["field"], change["op"], change["supplied"]) == ("incident.reports", "add", "report")
    login(browser, server, "handler", "en")
    paste_claim(browser, server, claim)
    assert total(browser) == f"{decision['total_payable']:,}"
    shown = browser.find_element(By.CSS_SELECTOR, "#document section.why-not .supply").text
    assert "Reports made: add" in shown and f"{suggestion['pays']:,}" in shown
    follow(browser, browser.find_element(By.ID, "edit"))
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "adjudicate"))
    tick(browser, "incident.reports", change["value"])   # the suggestion, applied in the form
    follow(browser, browser.find_element(By.ID, "adjudicate"))
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "summary") or d.find_elements(By.ID, "form-errors"))
    assert not browser.find_elements(By.ID, "form-errors"), [
        (e.get_attribute("data-field"), e.text) for e in browser.find_elements(By.CSS_SELECTOR, ".field-error")]
    assert total(browser) == f"{decision['total_payable'] + suggestion['pays']:,}"
