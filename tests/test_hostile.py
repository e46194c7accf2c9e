"""Issue 14: hostile input. Every file of tests/hostile/ gets its refusal (a field and a message);
special and huge files are refused without reading them; batch and diff isolate a failing claim;
--out is written safely; documents escape claim values; `audit show` never guesses."""
import atexit
import contextlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from adjudicator import ClaimError, adjudicate
from adjudicator.cli import main
from adjudicator.contract.limits import Limits
from adjudicator.contract.load import check_shape, parse_claim_bytes, parse_claim_text
from adjudicator.documents.render import render
from adjudicator.engine.examples import load_bases, merge

from support import EXAMPLES, ROOT, run_cli

CORPUS = Path(__file__).resolve().parent / "hostile"  # the committed hostile files


def _materialise() -> Path:
    """The hostile corpus in a temporary folder, plus the one file a repository must not hold: a
    symlink to /dev/zero (any copy of the tree that follows links — mutmut's, a backup — would fill
    the disk)."""
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    shutil.copytree(CORPUS, folder, dirs_exist_ok=True)
    os.symlink("/dev/zero", folder / "dev_zero.yaml")
    atexit.register(shutil.rmtree, folder, True)
    return folder


HOSTILE = _materialise()
EXPECTED = yaml.safe_load((HOSTILE / "expected.yaml").read_text(encoding="utf-8"))
GOOD = EXAMPLES / "fukuoka_seed_example.yaml"


def cli(*args: str) -> tuple[int, str, str]:
    """The real CLI in this process (a subprocess per hostile file would take a minute)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def assert_refused(path: Path, field: str, words: str) -> None:
    with pytest.raises(ClaimError) as exc:
        adjudicate(path)
    assert any(f == field and words in m for f, m in exc.value.problems), exc.value.problems
    code, out, err = cli("adjudicate", str(path), "--format", "json")
    assert code == 2 and out == ""
    assert any(line.startswith(f"{field}: ") and words in line for line in err.splitlines()), err
    assert err.isascii() or err.replace("\n", "").isprintable()  # no control character reaches the terminal
    assert len(err) < 2_000


def test_every_hostile_file_is_listed_with_its_refusal():
    files = {p.name for p in HOSTILE.iterdir() if p.suffix in (".yaml", ".json") and p.name != "expected.yaml"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hostile_file_is_refused_by_field(name):
    field, words = EXPECTED[name]
    assert_refused(HOSTILE / name, field, words)


BOUNDED = r'''
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (512 * 2 ** 20, 512 * 2 ** 20))
from adjudicator import ClaimError, adjudicate
out = {}
for path in sys.argv[1:]:
    t = time.perf_counter()
    try:
        adjudicate(path)
        out[path] = "decided"
    except ClaimError:
        out[path] = "refused"
print(json.dumps(out))
'''


def test_the_corpus_is_refused_within_a_bounded_address_space():
    """All of it in one process limited to 512 MB of address space (the billion laughs took 3 GB)."""
    paths = [str(HOSTILE / n) for n in sorted(EXPECTED)]
    r = subprocess.run([sys.executable, "-c", BOUNDED, *paths], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert set(json.loads(r.stdout).values()) == {"refused"}


def test_special_and_huge_files_are_refused_without_reading_them(tmp_path):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert_refused(fifo, "(claim file)", "not a regular file")  # and does not block on it
    assert_refused(tmp_path, "(claim file)", "it is a folder")
    sparse = tmp_path / "huge.yaml"
    with open(sparse, "wb") as fh:
        fh.truncate(200 * 2 ** 20)
    assert_refused(sparse, "(claim file)", "209,715,200 bytes; a claim file may have at most 1,000,000")
    big = tmp_path / "big.json"
    big.write_text(json.dumps(merge(load_bases()["fukuoka-cyber-2025"], {"losses": [{"category": "damages", "amount": 1,
                                                                                       "note": "x" * 1_100_000}]}), default=str))
    assert_refused(big, "(claim file)", "a claim file may have at most 1,000,000")


def test_the_python_api_bounds_a_dict_too():
    base = load_bases()["fukuoka-cyber-2025"]
    with pytest.raises(ClaimError, match=r"losses\[0\]\.note: text of 20,000,000 characters; at most 10,000"):
        adjudicate(merge(base, {"losses": [{"category": "damages", "amount": 1, "note": "x" * 20_000_000}]}))
    deep: list = []
    node = deep
    for _ in range(100_000):
        node.append([])
        node = node[0]
    with pytest.raises(ClaimError, match="nested deeper than 24 levels"):
        adjudicate(dict(base, x=deep))
    cyclic = dict(base)
    cyclic["incident"] = dict(base["incident"], leak=cyclic)
    with pytest.raises(ClaimError, match="nested deeper than 24 levels"):
        adjudicate(cyclic)
    from collections import OrderedDict
    assert adjudicate(OrderedDict(merge(base, {"incident": {"circumstances": ("war",)}})))["claim_id"] == "BASE-FK"
    for bad, words in [({1, 2}, "unsupported value (a set)"), (b"x", "unsupported value (a bytes)")]:
        with pytest.raises(ClaimError, match=r"^incident\.circumstances: " + words.replace("(", r"\(").replace(")", r"\)")):
            adjudicate(merge(base, {"incident": {"circumstances": bad}}))


def test_raw_bytes_gate_for_the_service_and_its_limits():
    data = GOOD.read_bytes()
    parsed = parse_claim_bytes(data, "yaml")
    assert adjudicate(parsed)["total_payable"] == 30_000_000
    as_json = json.dumps(yaml.safe_load(data), default=str).encode()
    assert parse_claim_bytes(as_json, "json") == json.loads(as_json)
    with pytest.raises(ClaimError, match=r"^\(claim file\): \d[\d,]* bytes; a claim may have at most 100$"):
        parse_claim_bytes(data, "yaml", Limits(max_bytes=100))
    with pytest.raises(ClaimError, match="nested deeper than 3 levels"):
        parse_claim_bytes(data, "yaml", Limits(max_depth=3))
    with pytest.raises(ClaimError, match="more than 10 values"):
        check_shape(parsed, Limits(max_nodes=10))
    with pytest.raises(ClaimError, match=r"duplicate key 'a'"):
        parse_claim_bytes(b'{"a": 1, "a": 2}', "json")


@pytest.mark.parametrize("loader", ["libyaml", "pure Python"])
def test_the_yaml_precheck_holds_with_either_parser(loader):
    """Where PyYAML lacks libyaml, the same event pass runs on its pure-Python parser (ClaimLoader then
    is the pure-Python one too)."""
    import yaml as pyyaml
    from adjudicator.contract import yamlsafe
    cls = pyyaml.SafeLoader if loader == "pure Python" else yamlsafe.ClaimLoader
    cases = {"billion_laughs.yaml": "more than 20,000 values", "deep_block_nesting.yaml": "nested deeper than 24",
             "recursive_alias.yaml": "refers to the value that contains it"}
    for name, words in cases.items():
        with pytest.raises(pyyaml.YAMLError, match=words):
            yamlsafe.precheck((HOSTILE / name).read_text(encoding="utf-8"), 24, 20_000, cls)
    yamlsafe.precheck(GOOD.read_text(encoding="utf-8"), 24, 20_000, cls)


# --- batch and diff -------------------------------------------------------------------------------

def _good_jsonl_lines(n: int = 4) -> list[str]:
    bases = load_bases()
    out = []
    for i in range(n):
        prog = ["fukuoka-cyber-2025", "nagano-privacy-2016", "jma-support"][i % 3]
        out.append(json.dumps(merge(bases[prog], {"claim_id": f"G{i}", "policy": {"policy_number": f"P-G{i}"}}), default=str))
    return out


def test_a_batch_with_hostile_claims_among_good_ones_decides_every_good_one(tmp_path):
    folder = tmp_path / "claims"
    shutil.copytree(HOSTILE, folder, symlinks=True)
    for ex in EXAMPLES.glob("*.yaml"):
        shutil.copy(ex, folder / ex.name)
    os.mkfifo(folder / "zz_fifo.yaml")
    (folder / "expected.yaml").unlink()
    out = tmp_path / "out.jsonl"
    r = run_cli("batch", str(folder), "--out", str(out), "--workers", "2")
    assert r.returncode == 1, r.stderr  # finished; some claims failed
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    decided = {r["claim_id"] for r in rows if "claim_id" in r}
    expected_good = {yaml.safe_load(p.read_text(encoding="utf-8"))["claim_id"] for p in EXAMPLES.glob("*.yaml")}
    assert decided == expected_good
    bad = [r for r in rows if "errors" in r]
    assert len(bad) == len(EXPECTED) + 1
    by_source = {r["source"]: r["errors"] for r in bad}
    for name, (field, words) in EXPECTED.items():
        assert any(e["field"] == field and words in e["message"] for e in by_source[name]), (name, by_source[name])
    assert r.stderr.strip().endswith(f"{len(rows)} claims, {len(bad)} with errors -> {out}")


def test_jsonl_duplicate_keys_and_overlong_lines_are_that_lines_error(tmp_path):
    good = _good_jsonl_lines(3)
    lines = [good[0], good[1][:-1] + ', "programme": "jma-support"}', "x" * 1_200_000, good[2]]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = run_cli("batch", str(src), "--out", str(out))
    assert r.returncode == 1
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r.get("claim_id") for r in rows] == ["G0", None, None, "G2"]
    assert rows[1]["errors"] == [{"field": "(claim file)", "message": "not valid JSON: duplicate key 'programme'"}]
    assert "line longer than 1,000,000 bytes" in rows[2]["errors"][0]["message"]


def _broken_rules(tmp_path: Path) -> Path:
    """A rulebook whose jma-support benefit cannot be computed: a real failure inside the payout."""
    rules = tmp_path / "rules_broken"
    shutil.copytree(ROOT / "rules", rules)
    p = rules / "programmes" / "jma-support.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("kind: base_plus_closure", "kind: not_a_kind"), encoding="utf-8")
    return rules


def test_a_claim_that_fails_inside_the_engine_is_its_own_error_line(tmp_path):
    rules = _broken_rules(tmp_path)
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_good_jsonl_lines(6)) + "\n", encoding="utf-8")
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        r = run_cli("--rules", str(rules), "batch", str(src), "--out", str(out), "--workers", workers)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.strip().endswith(f"6 claims, 2 with errors -> {out}")
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    rows = [json.loads(x) for x in outs[0].decode().splitlines()]
    assert [r.get("claim_id") for r in rows] == ["G0", "G1", None, "G3", "G4", None]
    assert rows[2]["errors"][0]["field"] == "(adjudication)" and "ValueError" in rows[2]["errors"][0]["message"]
    # with a ledger: the claims after the failing one are still adjudicated and recorded
    ledger = tmp_path / "l.sqlite"
    out = tmp_path / "outl.jsonl"
    r = run_cli("--rules", str(rules), "batch", str(src), "--out", str(out), "--ledger", str(ledger))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    recorded = [row[0] for row in sqlite3.connect(ledger).execute("SELECT claim_id FROM records ORDER BY seq")]
    assert recorded == ["G0", "G1", "G3", "G4"]


def test_a_failure_inside_the_engine_is_no_stack_trace_for_one_claim_either(tmp_path):
    claim = tmp_path / "jma.json"
    claim.write_text(_good_jsonl_lines(3)[2], encoding="utf-8")
    r = run_cli("--rules", str(_broken_rules(tmp_path)), "adjudicate", str(claim))
    assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.startswith("adjudicator: internal error (ValueError); nothing was written")


def test_diff_lists_a_failing_claim_and_goes_on(tmp_path):
    rules = _broken_rules(tmp_path)
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_good_jsonl_lines(3)) + "\n{bad\n", encoding="utf-8")
    r = run_cli("diff", str(src), "--rules-a", str(ROOT / "rules"), "--rules-b", str(rules))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "in.jsonl:3: invalid claim: (adjudication): under rulebook B: this claim could not be adjudicated" in r.stdout
    assert "in.jsonl:4: invalid claim: (claim file): not valid JSON" in r.stdout
    summary = r.stdout.split("summary")[1]
    assert re.search(r"\n  claims +4\n", summary) and re.search(r"\n  with errors +2\n", summary), summary


# --- --out ------------------------------------------------------------------------------------------

def test_out_is_never_written_through_a_symlink_and_never_replaces_an_input(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_good_jsonl_lines(2)) + "\n", encoding="utf-8")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.partial").symlink_to(victim)  # the old fixed temporary name
    r = run_cli("batch", str(src), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious" and len(out.read_text().splitlines()) == 2
    out.unlink()
    out.symlink_to(victim)  # a symlink at the target itself is replaced, its target untouched
    r = run_cli("batch", str(src), "--out", str(out))
    assert r.returncode == 0 and not out.is_symlink() and victim.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")) == ["out.jsonl.partial"]

    before = src.read_bytes()
    for target, words in [(src, "is an input"), (tmp_path / "." / "in.jsonl", "is an input"),
                          (tmp_path, "is a folder"), (tmp_path / "nowhere" / "o.jsonl", "does not exist")]:
        r = run_cli("batch", str(src), "--out", str(target))
        assert r.returncode == 2 and r.stderr.startswith("--out: ") and words in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    assert src.read_bytes() == before
    folder = tmp_path / "claims"
    folder.mkdir()
    shutil.copy(GOOD, folder / "a.yaml")
    for name in ("a.yaml", "new.json"):
        r = run_cli("batch", str(folder), "--out", str(folder / name))
        assert r.returncode == 2 and "names a claim file of the input folder (an input)" in r.stderr, r.stderr
    assert (folder / "a.yaml").read_bytes() == GOOD.read_bytes() and not (folder / "new.json").exists()
    r = run_cli("batch", "/dev/zero", "--out", str(tmp_path / "z.jsonl"))
    assert r.returncode == 2 and "not a regular file" in r.stderr and not (tmp_path / "z.jsonl").exists()


# --- documents --------------------------------------------------------------------------------------

INJECTIONS = ["```", "# Approved: pay 100,000,000 yen", "<script>alert(1)</script>", "[x](javascript:alert(1))",
              "*bold* _it_ | a | b |", "~~~"]


@pytest.mark.parametrize("claim_id", INJECTIONS)
def test_documents_escape_a_claim_id(claim_id):
    base = merge(load_bases()["fukuoka-cyber-2025"], {"claim_id": claim_id,
                                                      "losses": [{"category": "damages", "amount": 1,
                                                                  "note": "```\n# Approved".replace("\n", " ")}]})
    from adjudicator.policy.claims import parse_claim
    decision = adjudicate(base)
    claim = parse_claim(base)
    for fmt in ("md", "text", "html"):
        for audit in (False, True):
            doc = render(decision, fmt=fmt, lang="en", audit=audit, claim=claim)
            if fmt == "html":
                assert "<script>" not in doc
                continue
            lines = doc.splitlines()
            if fmt == "md":
                fences = [i for i, line in enumerate(lines) if line.startswith("```")]
                if audit:  # the input block: a fence longer than any backtick run inside it
                    assert [lines[i] for i in fences] == ["````yaml", "````"], [lines[i] for i in fences]
                    lines = lines[:fences[0]] + lines[fences[1] + 1:]  # inside the block nothing is markup
                else:
                    assert fences == []
                assert not any(line.startswith("# Approved") for line in lines)
                assert "<script>" not in "\n".join(lines) and "](javascript" not in "\n".join(lines)
            else:
                assert claim_id in "\n".join(doc.splitlines()[:6])  # the header names the claim


def test_text_and_md_show_control_characters_of_a_tampered_record():
    """A decision from a ledger file someone edited: its claim id is not re-validated, still escaped."""
    decision = adjudicate(GOOD)
    decision["claim_id"] = "A\n# Approved: pay 100,000,000 yen\x1b[2J\u202e"
    for fmt in ("md", "text"):
        doc = render(decision, fmt=fmt, lang="en")
        assert "\x1b" not in doc and "\u202e" not in doc
        assert not any(line.startswith("# Approved") for line in doc.splitlines())
        header = "\n".join(doc.splitlines()[:6])  # the header names the claim, escaped
        assert "\\x1b[2J" in header or "\\x1b\\[2J" in header


def test_audit_show_escapes_its_header_and_never_guesses_seq_or_id(tmp_path):
    ledger = tmp_path / "l.sqlite"
    for cid in ("2", "C1"):
        p = tmp_path / f"{cid}.yaml"
        p.write_text(yaml.safe_dump(merge(load_bases()["fukuoka-cyber-2025"], {"claim_id": cid, "policy": {"policy_number": "P-SHOW"}}), allow_unicode=True))
        assert run_cli("adjudicate", str(p), "--ledger", str(ledger)).returncode == 0
    r = run_cli("audit", "show", "2", "--ledger", str(ledger), "--lang", "en")  # claim id "2" is record 1
    assert r.returncode == 0 and r.stdout.startswith("ledger record 1 ")
    r = run_cli("audit", "show", "--seq", "2", "--ledger", str(ledger), "--lang", "en")
    assert r.returncode == 0 and r.stdout.startswith("ledger record 2 ") and "C1" in r.stdout
    r = run_cli("audit", "show", "--seq", "9", "--ledger", str(ledger))
    assert r.returncode == 2 and "no ledger record with sequence number 9" in r.stderr
    r = run_cli("audit", "show", "C1", "--seq", "2", "--ledger", str(ledger))
    assert r.returncode == 2 and "one of the two" in r.stderr
    r = run_cli("replay", "--seq", "1", "--ledger", str(ledger))
    assert r.returncode == 0 and "record 1 (2): byte-identical" in r.stdout
    db = sqlite3.connect(ledger)
    db.execute("UPDATE records SET recorded_at = '<script>alert(1)</script>\x1b[2J' WHERE seq = 2")
    db.commit()
    db.close()
    r = run_cli("audit", "show", "C1", "--ledger", str(ledger), "--format", "html")
    assert r.returncode == 1 and "does not verify" in r.stderr  # the edited record is flagged (issue 13)
    assert "<script>" not in r.stdout and "&lt;script&gt;" in r.stdout
    assert "警告: この記録の検証に失敗しました。記録の内容がハッシュと一致しません" in r.stdout
    for fmt in ("text", "md"):
        r = run_cli("audit", "show", "C1", "--ledger", str(ledger), "--format", fmt)
        assert r.returncode == 1 and "\x1b" not in r.stdout and "\\x1b[2J" in r.stdout.replace("\\[", "[")
        assert r.stdout.replace("\\:", ":").startswith("警告: この記録の検証に失敗しました。記録の内容がハッシュと一致しません（記録が改変されています）\n")
        assert "台帳記録 2 · 記録日時 " in r.stdout.splitlines()[1]  # the Japanese view's header is Japanese
        assert "WARNING" not in r.stdout and "ledger record" not in r.stdout
    assert "<script>" not in r.stdout  # md: escaped as \<script\>
    r = run_cli("audit", "show", "2", "--ledger", str(ledger), "--format", "text")
    assert r.returncode == 0 and r.stdout.startswith("台帳記録 1 · 記録日時 ") and "記録者 " in r.stdout
    en = run_cli("audit", "show", "C1", "--ledger", str(ledger), "--format", "text", "--lang", "en")
    assert en.stdout.startswith("WARNING: this record does not verify: its hash does not match its fields")


def test_deep_json_is_refused_the_same_way_whatever_the_recursion_limit():
    """json.loads' own guard is the interpreter's recursion limit (1,000 on 3.11, far more on 3.12+
    or once a library raises it); the gate counts brackets first, so the refusal never depends on it."""
    deep = b'{"claim_id": "X", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    before = sys.getrecursionlimit()
    messages = []
    try:
        for limit in (before, 20_000):
            sys.setrecursionlimit(limit)
            with pytest.raises(ClaimError) as exc:
                parse_claim_bytes(deep, "json")
            messages.append(exc.value.problems)
    finally:
        sys.setrecursionlimit(before)
    assert messages[0] == messages[1] == [("(claim file)", "not valid JSON: nested deeper than 24 levels (line 1)")]
    # brackets inside strings (escaped quotes too) are text, not nesting
    text = json.dumps({"note": "[" * 100 + '\\"{' * 50, "x": json.loads("[" * 20 + "]" * 20)})
    assert parse_claim_text(text, "json")["note"].startswith("[[[")
    with pytest.raises(ClaimError, match="nested deeper than 24 levels"):
        parse_claim_text(text.replace('"x": ', '"x": ' + "[" * 10)[:-1] + "]" * 10 + "}", "json")


def test_a_list_too_long_is_refused_in_house_words_in_english_and_japanese():
    path = HOSTILE / "too_many_lines.json"
    code, out, err = cli("adjudicate", str(path), "--lang", "en")
    assert code == 2 and err.strip() == "losses: at most 1,000 items, got 1,001"
    code, out, err = cli("adjudicate", str(path), "--lang", "ja")
    assert code == 2 and err.strip() == "losses: 1,000件以下にしてください（指定された件数: 1,001）"
    for leak in ("List should", "after validation", "items"):
        assert leak not in err, leak
    code, out, err = cli("adjudicate", str(HOSTILE / "claim_id_65.json"), "--lang", "ja")
    assert code == 2 and err.strip() == "claim_id: 64文字以下にしてください（指定された文字数: 65）"
