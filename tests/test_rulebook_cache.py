"""Issue 16: the rulebook cache between processes: keyed by every rulebook file (and the code that
reads them), ignored on any doubt, never changing what is read."""
import json
import shutil
import subprocess
import sys

import pytest

from adjudicator.engine import rulebook as rb
from adjudicator.policy import catalogue as cat
from support import ROOT


@pytest.fixture
def env(tmp_path, monkeypatch):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    cache = tmp_path / "cache"
    monkeypatch.setenv("ADJUDICATOR_CACHE_DIR", str(cache))
    rb._read.cache_clear()
    cat._load.cache_clear()
    yield rules, cache
    rb._read.cache_clear()
    cat._load.cache_clear()


def read(rules):
    rb._read.cache_clear()
    book = rb.read_rulebook(rules)
    return book, rb.last_source


def test_the_second_read_comes_from_the_cache_and_is_the_same(env):
    rules, cache = env
    first, src1 = read(rules)
    second, src2 = read(rules)
    assert (src1, src2) == ("files", "cache")
    assert second.model_dump() == first.model_dump()
    assert [p.stat().st_mode & 0o777 for p in cache.glob("rulebook-*.json")] == [0o600]
    # and it compiles and decides the same
    rb._load.cache_clear()
    assert rb.load_rulebook(rules).compiled.keys() == {"fukuoka-cyber-2025", "nagano-privacy-2016", "jma-support"}


def test_the_rulebook_from_the_cache_keeps_the_files_key_order(env):
    """The same rulebook whichever way it was read, down to the order of its mappings' keys (the rules
    page shows rule examples as the files write them)."""
    rules, _ = env
    first, src1 = read(rules)
    second, src2 = read(rules)
    assert (src1, src2) == ("files", "cache")
    assert exactly(first.model_dump(exclude={"compiled"}), second.model_dump(exclude={"compiled"}))
    def unsorted(node) -> int:
        if isinstance(node, dict):
            return (list(node) != sorted(map(str, node))) + sum(unsorted(v) for v in node.values())
        return sum(unsorted(v) for v in node) if isinstance(node, list) else 0
    # the rulebook has mappings whose keys are not in sorted order: the check means something
    assert unsorted(first.model_dump(exclude={"compiled"})) > 10


def test_a_changed_rulebook_file_is_read_from_the_files(env):
    rules, _ = env
    before, _ = read(rules)
    read(rules)
    target = next((rules / "rulebook").rglob("*.yaml"))
    target.write_text(target.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after, src = read(rules)
    assert src == "files" and after.sha256 != before.sha256
    plan = rules / "programmes" / "jma-support.yaml"
    plan.write_text(plan.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert read(rules)[1] == "files"
    assert read(rules)[1] == "cache"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "edit_body", "edit_with_digest", "folder", "empty"])
def test_a_damaged_or_edited_cache_file_is_ignored_and_rebuilt(env, damage):
    rules, cache = env
    want, _ = read(rules)
    path = next(cache.glob("rulebook-*.json"))
    blob = path.read_bytes()
    head, digest, body = blob.split(b"\n", 2)
    if damage == "truncate":
        path.write_bytes(blob[: len(blob) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00\xff" * 1000)
    elif damage == "edit_body":
        path.write_bytes(blob.replace(b"needs_information", b"covered", 1))
    elif damage == "edit_with_digest":  # a consistent file whose content is not a rulebook
        body = json.dumps({"version": 1}).encode()
        import hashlib
        path.write_bytes(head + b"\n" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    elif damage == "empty":
        path.write_bytes(b"")
    got, src = read(rules)
    assert src == "files" and got.model_dump() == want.model_dump()
    if damage != "folder":
        assert read(rules)[1] == "cache"  # rewritten


def test_duplicate_keys_are_still_refused_with_a_warm_cache(env):
    rules, _ = env
    read(rules)
    target = next((rules / "rulebook").rglob("*.yaml"))
    target.write_text("programme: jma-support\nprogramme: jma-support\nrules: []\n", encoding="utf-8")
    rb._read.cache_clear()
    with pytest.raises(rb.RulebookError, match="duplicate key"):
        rb.read_rulebook(rules)


def test_cache_off_and_an_unwritable_folder(env, monkeypatch, tmp_path):
    rules, _ = env
    monkeypatch.setenv("ADJUDICATOR_CACHE_DIR", "off")
    assert read(rules)[1] == "files" and read(rules)[1] == "files"
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("ADJUDICATOR_CACHE_DIR", str(blocker / "sub"))  # cannot be created
    assert read(rules)[1] == "files" and read(rules)[1] == "files"


def test_only_the_newest_few_cache_files_are_kept(env):
    rules, cache = env
    target = rules / "rulebook.yaml"
    text = target.read_text(encoding="utf-8")
    for i in range(rb._CACHE_KEEP + 4):
        target.write_text(text + f"\n# {i}\n", encoding="utf-8")
        read(rules)
    assert len(list(cache.glob("rulebook-*.json"))) == rb._CACHE_KEEP


def test_a_cli_process_with_a_warm_cache_gives_the_same_decision(env):
    rules, cache = env
    claim = ROOT / "docs" / "samples" / "claims" / "fukuoka_s1000_combined_cap.yaml"
    cmd = [sys.executable, "-m", "adjudicator", "--rules", str(rules), "adjudicate", str(claim), "--format", "json"]
    e = {"ADJUDICATOR_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    cold = subprocess.run(cmd, capture_output=True, cwd=ROOT, env=e, timeout=120)
    warm = subprocess.run(cmd, capture_output=True, cwd=ROOT, env=e, timeout=120)
    off = subprocess.run(cmd, capture_output=True, cwd=ROOT, env=dict(e, ADJUDICATOR_CACHE_DIR="off"), timeout=120)
    assert cold.returncode == warm.returncode == off.returncode == 0, cold.stderr
    assert cold.stdout == warm.stdout == off.stdout and len(list(cache.glob("rulebook-*.json"))) == 1


# The plan catalogue is cached the same way (policy/catalogue.py, contract/filecache.py).

def read_catalogue(rules):
    cat._load.cache_clear()
    return cat.load_catalogue(rules), cat.last_source


def exactly(a, b) -> bool:
    """Equal with the same types and the same key order all the way down (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(exactly(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(exactly(x, y) for x, y in zip(a, b))
    return a == b


def test_the_catalogue_from_the_cache_is_exactly_the_one_read_from_its_files(env):
    rules, cache = env
    first, src1 = read_catalogue(rules)
    second, src2 = read_catalogue(rules)
    assert (src1, src2) == ("files", "cache")
    assert list(first.programmes) == list(second.programmes)
    for pid, prog in first.programmes.items():
        assert exactly(prog.data, second.programmes[pid].data), pid
    # what JSON alone would not give back: dates, and the premium tables' integer keys
    fk = second["fukuoka-cyber-2025"]
    assert type(fk.period_start).__name__ == "date"
    assert any(type(k) is int for k in fk.plans["S1"]["premiums"]["hospital"]["general_beds"])
    assert [p.stat().st_mode & 0o777 for p in cache.glob("catalogue-*.json")] == [0o600]


def test_an_edited_programme_file_is_read_from_the_files(env):
    rules, _ = env
    read_catalogue(rules)
    plan = rules / "programmes" / "jma-support.yaml"
    plan.write_text(plan.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert read_catalogue(rules)[1] == "files"
    assert read_catalogue(rules)[1] == "cache"
    plan.write_text(plan.read_text(encoding="utf-8") + "label: {ja: x, en: y}\n", encoding="utf-8")
    with pytest.raises(Exception, match="duplicate key"):  # still refused with a warm cache
        read_catalogue(rules)


@pytest.mark.parametrize("damage", ["truncate", "edit_body", "foreign", "folder"])
def test_a_damaged_catalogue_cache_is_ignored(env, damage):
    rules, cache = env
    want, _ = read_catalogue(rules)
    path = next(cache.glob("catalogue-*.json"))
    blob = path.read_bytes()
    head, digest, body = blob.split(b"\n", 2)
    if damage == "truncate":
        path.write_bytes(blob[: len(blob) // 2])
    elif damage == "edit_body":
        path.write_bytes(blob.replace(b"fukuoka", b"FUKUOKA", 1))
    elif damage == "foreign":  # consistent, but not a catalogue
        import hashlib
        body = json.dumps({"programmes": 1}).encode()
        path.write_bytes(head + b"\n" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    got, src = read_catalogue(rules)
    assert src == "files" and {p: v.data for p, v in got.programmes.items()} == \
        {p: v.data for p, v in want.programmes.items()}


def test_catalogue_cache_off(env, monkeypatch):
    rules, cache = env
    monkeypatch.setenv("ADJUDICATOR_CACHE_DIR", "off")
    assert read_catalogue(rules)[1] == "files" and read_catalogue(rules)[1] == "files"
