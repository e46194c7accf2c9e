"""The fourth hostile probe's findings on files (/work/helpers/hostile4.md items 1-5 and 17), on the real
command line in subprocesses and a real SQLite ledger: `--out` never onto the ledger, its -wal or the
anchor key; a device, a FIFO or a symbolic link as `--out` written through, never replaced; reads of
standard input, key and anchor files bounded; YAML 1.1 number forms never read as other amounts."""
from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import threading

import pytest
import yaml

from ledger_support import claim_data, claim_file
from support import ROOT, run_cli

from adjudicator.contract.load import parse_claim_bytes


@pytest.fixture
def recorded(tmp_path):
    """A ledger with one claim, the claim file and a JSONL of another claim."""
    ledger = tmp_path / "l.sqlite"
    claim = claim_file(tmp_path, "H4-1")
    assert run_cli("adjudicate", str(claim), "--ledger", str(ledger)).returncode == 0
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps(claim_data("H4-2"), default=str) + "\n", encoding="utf-8")
    return ledger, claim, jsonl


def _verify(ledger) -> subprocess.CompletedProcess:
    return run_cli("audit", "verify", "--ledger", str(ledger))


@pytest.mark.parametrize("target", ["ledger", "wal", "key"])
def test_anchor_out_never_onto_the_ledger_or_the_key(recorded, tmp_path, target):
    ledger, _, _ = recorded
    key = tmp_path / "anchor.key"
    assert run_cli("audit", "anchor", "--ledger", str(ledger), "--key-file", str(key)).returncode == 0
    key_before, ledger_before = key.read_bytes(), ledger.read_bytes()
    out = {"ledger": ledger, "wal": tmp_path / "l.sqlite-wal", "key": key}[target]
    r = run_cli("audit", "anchor", "--ledger", str(ledger), "--key-file", str(key), "--out", str(out))
    assert r.returncode == 2 and r.stderr.startswith("--out: ") and "write the output elsewhere" in r.stderr
    assert ("the key file" if target == "key" else "the ledger") in r.stderr
    assert key.read_bytes() == key_before and ledger.read_bytes() == ledger_before
    assert _verify(ledger).returncode == 0


def test_batch_out_never_onto_its_own_ledger(recorded):
    ledger, _, jsonl = recorded
    r = run_cli("batch", str(jsonl), "--ledger", str(ledger), "--out", str(ledger))
    assert r.returncode == 2 and "is the ledger" in r.stderr
    v = _verify(ledger)
    assert v.returncode == 0 and "1 records" in v.stdout   # nothing recorded, nothing destroyed


def test_a_fifo_as_out_is_written_through_not_replaced(recorded, tmp_path):
    _, _, jsonl = recorded
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = run_cli("batch", str(jsonl), "--out", str(fifo))
    reader.join(30)
    assert r.returncode == 0 and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(got[0])["claim_id"] == "H4-2"
    # a FIFO behind a symbolic link (planted at the output's name) is refused, the FIFO left alone
    link = tmp_path / "link.jsonl"
    link.symlink_to(fifo.name)
    r = run_cli("batch", str(jsonl), "--out", str(link))
    assert r.returncode == 2 and "not a regular file" in r.stderr and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    # item 17: an existing file's mode is kept
    kept = tmp_path / "kept.jsonl"
    kept.write_text("old\n")
    kept.chmod(0o600)
    assert run_cli("batch", str(jsonl), "--out", str(kept)).returncode == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and json.loads(kept.read_text())["claim_id"] == "H4-2"


def test_a_character_device_as_out_is_written_in_place(recorded):
    _, _, jsonl = recorded
    full = "/dev/full"
    if not os.path.exists(full) or not stat.S_ISCHR(os.stat(full).st_mode):
        pytest.skip("no /dev/full here")
    before = os.stat(full)
    r = run_cli("batch", str(jsonl), "--out", full)   # a write to /dev/full fails: said so, exit 2
    assert r.returncode == 2 and "No space left on device" in r.stderr and "Traceback" not in r.stderr
    after = os.stat(full)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev   # still the device
    assert run_cli("batch", str(jsonl), "--out", "/dev/null").returncode == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def _bounded(args: list[str], stdin_path: str) -> subprocess.CompletedProcess:
    limit = 600 * 1024 * 1024   # address space: far above a normal run, far below reading /dev/zero whole

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with open(stdin_path, "rb") as stdin:
        return subprocess.run([sys.executable, "-m", "adjudicator", *args], stdin=stdin, capture_output=True,
                              text=True, cwd=ROOT, timeout=60, preexec_fn=cap)


def test_standard_input_is_read_up_to_the_limit_only():
    r = _bounded(["adjudicate", "-"], "/dev/zero")
    assert r.returncode == 2 and "more than 1,000,000 bytes" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("which", ["key", "anchor", "anchor-key"])
def test_key_and_anchor_files_are_bounded_and_regular(recorded, tmp_path, which):
    ledger, _, _ = recorded
    key = tmp_path / "anchor.key"
    assert run_cli("audit", "anchor", "--ledger", str(ledger), "--key-file", str(key),
                   "--out", str(tmp_path / "a.json")).returncode == 0
    args = {"key": ["audit", "verify", "--ledger", str(ledger), "--anchor", str(tmp_path / "a.json"),
                    "--key-file", "/dev/zero"],
            "anchor": ["audit", "verify", "--ledger", str(ledger), "--anchor", "/dev/zero", "--key-file", str(key)],
            "anchor-key": ["audit", "anchor", "--ledger", str(ledger), "--key-file", "/dev/zero"]}[which]
    r = _bounded(args, "/dev/null")
    assert r.returncode == 2 and "is not a regular file" in r.stderr and "Traceback" not in r.stderr
    big = tmp_path / "big"
    big.write_bytes(b"0" * 70_000)
    args = [big if a == "/dev/zero" else a for a in args]
    r = _bounded([str(a) for a in args], "/dev/null")
    assert r.returncode == 2 and "larger than" in r.stderr


def _adjudicate_text(tmp_path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "claim.yaml"
    path.write_text(text, encoding="utf-8")
    return run_cli("adjudicate", str(path), "--format", "json")


def _claim_text(patch=None) -> str:
    return yaml.safe_dump(claim_data("H4-Y", patch), allow_unicode=True)


@pytest.mark.parametrize("typed", ["0700000", "0x10", "190:20:30", "017", "00"])
def test_yaml_1_1_number_forms_are_refused_naming_the_field(tmp_path, typed):
    """0300000 was paid as 98,304 yen (octal), 0x10 as 16, 190:20:30 as 685,230 (base 60)."""
    text = _claim_text().replace("amount: 700000", f"amount: {typed}", 1)
    assert f"amount: {typed}" in text
    r = _adjudicate_text(tmp_path, text)
    assert r.returncode == 2 and r.stderr.startswith(f"losses[0].amount: expected a whole number (got '{typed}')"), r.stderr


@pytest.mark.parametrize("typed", ["700000", "700_000", "+700000"])
def test_plain_decimal_amounts_are_read_as_written(tmp_path, typed):
    r = _adjudicate_text(tmp_path, _claim_text().replace("amount: 700000", f"amount: {typed}", 1))
    assert r.returncode == 0 and json.loads(r.stdout)["lines"][0]["claimed"] == 700_000


@pytest.mark.parametrize("typed", ["on", "yes", "no", "off", "Y"])
def test_yaml_1_1_booleans_are_refused_naming_the_field(tmp_path, typed):
    text = _claim_text().replace("state_sponsored: false", f"state_sponsored: {typed}", 1)
    assert f"state_sponsored: {typed}" in text
    r = _adjudicate_text(tmp_path, text)
    assert r.returncode == 2 and r.stderr.startswith("incident.attack.state_sponsored: expected true or false"), r.stderr


def test_a_leading_zero_identifier_is_kept_as_typed():
    text = _claim_text().replace("policy_number: FK-1", "policy_number: 0012345", 1)
    assert "policy_number: 0012345" in text
    assert parse_claim_bytes(text.encode(), "yaml")["policy"]["policy_number"] == "0012345"


def test_dev_stdout_redirected_to_a_file_is_written_there_and_stays_a_link(recorded, tmp_path):
    """--out /dev/stdout with the shell's stdout on a file: the file gets the output; nothing is created or
    renamed under /dev (a rename onto /dev/stdout would replace the system's link with a file)."""
    _, _, jsonl = recorded
    was_link = os.path.islink("/dev/stdout")
    sink = tmp_path / "redirected.jsonl"
    with open(sink, "w") as fh:
        r = subprocess.run([sys.executable, "-m", "adjudicator", "batch", str(jsonl), "--out", "/dev/stdout"],
                           stdout=fh, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(sink.read_text())["claim_id"] == "H4-2"
    assert os.path.islink("/dev/stdout") == was_link
    assert not [p for p in os.listdir("/dev") if p.endswith(".partial")]
    r = run_cli("batch", str(jsonl), "--out", "/dev/adjudicator-test-new")
    assert r.returncode == 2 and "nothing new is written under /dev" in r.stderr
    assert not os.path.exists("/dev/adjudicator-test-new")


def test_a_json_bom_is_accepted_as_a_yaml_one_and_a_nul_is_worded_plainly(tmp_path):
    """Probe 4 item 12: a JSON file with a BOM got Python's 'decode using utf-8-sig'; a NUL in YAML showed
    pyyaml's '"<unicode string>", position 42'."""
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(claim_data("H4-BOM"), default=str).encode())
    r = run_cli("adjudicate", str(path), "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["claim_id"] == "H4-BOM"
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"claim_id: H4\nplan: \"a\x00b\"\n")
    r = run_cli("adjudicate", str(path))
    assert r.returncode == 2
    assert r.stderr.strip() == "(claim file): not valid YAML: line 2, column 9: the character U+0000 is not allowed in a YAML file"
    assert "unicode string" not in r.stderr and "position" not in r.stderr
