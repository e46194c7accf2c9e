"""The fourth hostile probe's command-line findings: bad flags are exit 2 naming the flag, never an
internal error or a traceback (real CLI subprocesses)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support import EXAMPLES, ROOT, run_cli

RULES = str(ROOT / "rules")


def _refused(r: subprocess.CompletedProcess, flag: str) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith(f"{flag}: "), r.stderr
    return r.stderr


@pytest.mark.parametrize("argv", [("--rules", "{d}", "rules", "check"), ("--rules", "{d}", "rules", "list"),
                                  ("rules", "list", "--rules", "{d}")])
def test_a_folder_that_is_not_a_rulebook_is_refused_naming_rules(tmp_path, argv):
    (tmp_path / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    err = _refused(run_cli(*(a.format(d=tmp_path) for a in argv)), "--rules")
    assert "is not a rulebook directory (no rulebook.yaml or programmes/)" in err


def test_diff_names_the_rulebook_flag_that_is_not_a_rulebook(tmp_path):
    corpus = tmp_path / "one.jsonl"
    corpus.write_text("{}\n", encoding="utf-8")
    err = _refused(run_cli("diff", str(corpus), "--rules-a", RULES, "--rules-b", str(tmp_path)), "--rules-b")
    assert "is not a rulebook directory" in err
    err = _refused(run_cli("diff", str(corpus), "--rules-a", str(tmp_path / "nope"), "--rules-b", RULES), "--rules-a")
    assert "no rulebook directory at" in err


def _serve(*flags: str) -> subprocess.CompletedProcess:
    # A refused flag ends the command at once; one let through would start a server (the timeout fails it).
    return subprocess.run([sys.executable, "-m", "adjudicator", "serve", *flags], capture_output=True, text=True,
                          cwd=ROOT, timeout=30, env={**os.environ, "ADJUDICATOR_LEDGER": os.devnull + ".none"})


@pytest.mark.parametrize("flags, flag, says", [
    (("--port", "99999"), "--port", "must be 1..65535 (got 99999)"),
    (("--host", "0.0.0.0", "--port", "-1"), "--port", "must be 1..65535 (got -1)"),
    (("--port", "0"), "--port", "must be 1..65535"),
    (("--workers", "0"), "--workers", "must be at least 1 (got 0)"),
    (("--workers", "100000"), "--workers", "4 per CPU"),
    (("--max-body", "-5"), "--max-body", "must be a positive number of bytes (got -5)"),
    (("--anchor-every", "0"), "--anchor-every", "must be at least 1"),
    (("--rulebook", "bogus"), "--rulebook", "expected NAME=FOLDER, got 'bogus'"),
    (("--rulebook", "x=/nonexistent"), "--rulebook", "'x': no rulebook directory at '/nonexistent'"),
    (("--rulebook", "etc=/etc"), "--rulebook", "is not a rulebook directory"),
])
def test_serve_refuses_a_bad_flag_before_it_starts(flags, flag, says):
    assert says in _refused(_serve(*flags), flag)


@pytest.mark.parametrize("n, says", [("0", "must be at least 1 (got 0)"), ("-1", "must be at least 1 (got -1)"),
                                     ("100000", f"at most {4 * (os.cpu_count() or 1)} (4 per CPU")])
def test_batch_workers_are_at_least_one_and_at_most_four_per_cpu(tmp_path, n, says):
    out = tmp_path / "out.jsonl"
    err = _refused(run_cli("batch", str(EXAMPLES), "--out", str(out), "--workers", n), "--workers")
    assert says in err
    assert not out.exists()


SEED = str(EXAMPLES / "fukuoka_seed_example.yaml")


def test_the_handler_is_escaped_in_the_md_document_like_the_claim_id():
    r = run_cli("adjudicate", SEED, "--format", "md", "--lang", "en", "--decided-on", "2026-02-03",
                "--handler", "<script>x</script> [x](javascript:1) |a|b| # h ``` *b*")
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("| Decided by |"))
    assert row == r"| Decided by | \<script\>x\</script\> \[x\]\(javascript\:1\) \|a\|b\| \# h \`\`\` \*b\* |"
    assert "| Decided on | 2026-02-03 |" in r.stdout
    assert "<script>" not in r.stdout and "```" not in r.stdout


@pytest.mark.parametrize("name", ["a\nb", "a\x1b[31m", "a\u202eb", "a\rb", "x" * 65])
def test_a_handler_with_a_line_break_or_control_character_is_refused(name):
    _refused(run_cli("adjudicate", SEED, "--format", "md", "--handler", name), "--handler")
    r = subprocess.run([sys.executable, "-m", "adjudicator", "adjudicate", SEED, "--format", "text"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, env={**os.environ, "ADJUDICATOR_HANDLER": name})
    _refused(r, "$ADJUDICATOR_HANDLER")


@pytest.mark.parametrize("day, says", [("banana", "expected a date YYYY-MM-DD, got 'banana'"),
                                       ("2026-02-30", "got '2026-02-30'"), ("2026-13-45", "got '2026-13-45'"),
                                       ("20260101", "got '20260101'"), ("x\x1b[31m", r"got 'x\x1b[31m'"),
                                       ("9999-12-31", "is outside 1900-01-01 .. 2199-12-31")])
def test_decided_on_must_be_a_real_day(day, says):
    assert says in _refused(run_cli("adjudicate", SEED, "--format", "md", "--decided-on", day), "--decided-on")


@pytest.mark.parametrize("flags, flag, says", [
    (("--enrolled-on", "9999-12-31"), "--enrolled-on", "9999-12-31 is outside 1900-01-01 .. 2199-12-31"),
    (("--enrolled-on", "0001-01-01"), "--enrolled-on", "is outside"),
    (("--enrolled-on", "2025-7-1"), "--enrolled-on", "expected a date YYYY-MM-DD, got '2025-7-1'"),
    (("--facility", "hospital", "--general-beds", "-1"), "--general-beds", "a count cannot be negative, got -1"),
    (("--facility", "hospital", "--general-beds", "10", "--other-beds", "-3"), "--other-beds", "cannot be negative"),
    (("--facility", "care_facility", "--places", "-2"), "--places", "cannot be negative"),
])
def test_quote_refuses_dates_out_of_range_and_negative_counts_naming_the_flag(flags, flag, says):
    argv = ["quote", "nagano-privacy-2016" if "--other-beds" in flags else "fukuoka-cyber-2025",
            "D" if "--other-beds" in flags else "S1"]
    if "--facility" not in flags:
        argv += ["--facility", "clinic"]
    assert says in _refused(run_cli(*argv, *flags), flag)


def test_rules_list_of_an_unknown_programme_is_refused_like_plans():
    r = run_cli("rules", "list", "JUNK\x1b[31m")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(r"programme: unknown 'JUNK\x1b[31m'; expected one of fukuoka-cyber-2025")
    assert run_cli("plans", "JUNK").returncode == 2
    ok = run_cli("rules", "list", "jma-support")
    assert ok.returncode == 0 and "JMA-MEMBER" in ok.stdout


def test_a_case_twin_of_a_user_is_refused_as_already_existing(tmp_path):
    ledger = str(tmp_path / "l.sqlite")
    assert run_cli("users", "add", "h1", "--role", "handler", "--ledger", ledger).returncode == 0
    for twin in ("H1", "h1"):
        r = run_cli("users", "add", twin, "--role", "auditor", "--ledger", ledger)
        assert r.returncode == 2, r.stderr
        assert f"name: a user named '{twin}' already exists" in r.stderr
        if twin == "H1":
            assert "(as 'h1': names differing only in case are one name)" in r.stderr
    listed = run_cli("users", "list", "--format", "json", "--ledger", ledger)
    assert [u["name"] for u in json.loads(listed.stdout)] == ["h1"]


@pytest.mark.parametrize("typed, shown, read_as", [("2025-01-01", "2025-01-01", "a date"), ("12345", "12345", "a number"),
                                                   ("true", "true", "true/false")])
def test_an_identifier_that_is_not_text_is_shown_as_typed_with_a_hint_to_quote_it(tmp_path, typed, shown, read_as):
    text = (EXAMPLES / "fukuoka_seed_example.yaml").read_text(encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text(text.replace("\nclaim_id: FK-2025-EXAMPLE\n", f"\nclaim_id: {typed}\n", 1), encoding="utf-8")
    r = run_cli("adjudicate", str(path))
    assert r.returncode == 2
    assert r.stderr == f"claim_id: expected text (got {shown}, read as {read_as}): write it in quotes to keep it as typed\n"
    assert "datetime" not in r.stderr and "True" not in r.stderr
    ja = run_cli("adjudicate", str(path), "--lang", "ja")
    assert ja.stderr == f"claim_id: 文字列で指定してください。値を引用符（\"…\"）で囲むと書いたとおりに読まれます（指定された値: {shown}）\n"
