"""Issue 16, start-up: a command imports what it uses and no more (adjudicator/cli/'s command modules
import inside each command), so `adjudicator adjudicate` does not pay for FastAPI, Jinja2, psycopg,
the ledger or the documents, and `rules check` not for the decision path. Behavioural: which modules
a real run leaves loaded, in a fresh interpreter; how long it takes is benchmarks/bench.py's
business (cli_startup)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support import ROOT

SAMPLE = ROOT / "docs" / "samples" / "claims" / "fukuoka_s1000_combined_cap.yaml"

PROBE = r"""
import contextlib, io, json, sys
import adjudicator.cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        rc = adjudicator.cli.main(json.loads(sys.argv[1]))
    except SystemExit as exc:  # --help
        rc = exc.code
print(json.dumps({"rc": rc, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""

# never needed to adjudicate one claim to JSON
SERVICE_AND_DOCUMENTS = {"fastapi", "starlette", "uvicorn", "jinja2", "markupsafe", "psycopg", "sqlite3",
                         "adjudicator.service", "adjudicator.documents", "adjudicator.ledger", "adjudicator.runs"}


def loaded_after(argv: list[str]) -> tuple[int, str, set[str]]:
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.splitlines()[-1])
    return got["rc"], got["out"], set(got["modules"])


def packages(modules: set[str]) -> set[str]:
    """Every module and each of its parent packages (`a.b.c` counts as a, a.b and a.b.c)."""
    return {".".join(m.split(".")[: i + 1]) for m in modules for i in range(m.count(".") + 1)}


def test_adjudicate_to_json_loads_no_service_documents_or_ledger():
    rc, out, mods = loaded_after(["adjudicate", str(SAMPLE), "--format", "json"])
    assert rc == 0 and json.loads(out)["claim_id"]  # it decided
    assert "adjudicator.decide" in mods and "pydantic" in mods  # the probe sees what a run loads
    assert packages(mods) & SERVICE_AND_DOCUMENTS == set()
    # the output contract's models are built for the reference path and the tests, not the CLI
    assert "adjudicator.contract.decision" not in mods


def test_a_document_loads_jinja2_only_then():
    rc, out, mods = loaded_after(["adjudicate", str(SAMPLE), "--format", "html", "--decided-on", "2026-01-01"])
    assert rc == 0 and "<html" in out
    assert "jinja2" in mods and "adjudicator.documents.render" in mods
    assert packages(mods) & {"fastapi", "uvicorn", "psycopg", "adjudicator.service", "adjudicator.ledger"} == set()


def test_rules_check_does_not_load_the_decision_path():
    rc, out, mods = loaded_after(["rules", "check"])
    assert rc == 0 and "rules OK" in out
    assert "adjudicator.engine.examples" in mods  # the examples did run
    assert packages(mods) & (SERVICE_AND_DOCUMENTS | {"adjudicator.decide", "adjudicator.payout",
                                                      "adjudicator.engine.why_not",
                                                      "adjudicator.contract.decision"}) == set()


@pytest.mark.parametrize("argv", [["--help"], ["plans"], ["adjudicate", "--help"]])
def test_help_and_plans_load_no_pydantic(argv):
    rc, out, mods = loaded_after(argv)
    assert rc == 0 and out
    assert packages(mods) & (SERVICE_AND_DOCUMENTS | {"pydantic", "adjudicator.contract.claim",
                                                      "adjudicator.engine"}) == set()


def test_the_package_names_its_api_on_first_use():
    code = ("import sys, adjudicator\n"
            "assert 'adjudicator.decide' not in sys.modules\n"
            "from adjudicator import ClaimError, adjudicate\n"
            "from adjudicator.contract.load import ClaimError as E\n"
            "from adjudicator.decide import adjudicate as a\n"
            "assert ClaimError is E and adjudicate is a and adjudicator.adjudicate is a\n"
            "assert {'adjudicate', 'ClaimError'} <= set(dir(adjudicator))\n"
            "try:\n"
            "    adjudicator.nothing_such\n"
            "except AttributeError as exc:\n"
            "    assert 'nothing_such' in str(exc)\n"
            "else:\n"
            "    raise SystemExit('no AttributeError')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]


def test_main_leaves_the_garbage_collector_as_it_found_it():
    """The short commands pause the collector through start-up (cli/main.py; cli/common.py's
    _started); an in-process caller gets it back as it was, enabled or not, with nothing left
    frozen, error exits included."""
    code = ("import contextlib, gc, io, sys\n"
            "from adjudicator.cli import main\n"
            f"claim = {str(SAMPLE)!r}\n"
            "seen = []\n"
            "for enabled in (True, False):\n"
            "    (gc.enable if enabled else gc.disable)()\n"
            "    for argv in (['adjudicate', claim], ['rules', 'check'], ['plans'], ['adjudicate', '/nonexistent.yaml'],\n"
            "                 ['adjudicate', '--bogus']):\n"
            "        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            "            try:\n"
            "                main(argv)\n"
            "            except SystemExit:\n"
            "                pass\n"
            "        seen.append((gc.isenabled() == enabled, gc.get_freeze_count()))\n"
            "assert seen == [(True, 0)] * 10, seen\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
