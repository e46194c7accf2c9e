"""The layout's dependency rule (pyproject.toml's import-linter contracts) and what they cannot say."""
from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import adjudicator
from adjudicator.engine.rulebook import load_rulebook, read_rulebook
from adjudicator.engine.run import run_rules
from adjudicator.engine.examples import load_bases
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

ROOT = Path(__file__).resolve().parent.parent
GRAPH = grimp.build_graph("adjudicator")


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    r = subprocess.run([exe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:]
    assert "0 broken" in r.stdout


def _importers(package: str) -> set[str]:
    if package not in GRAPH.modules:
        return set()
    inside = {package} | GRAPH.find_descendants(package)
    return {m for target in inside for m in GRAPH.find_modules_that_directly_import(target)} - inside


def test_only_main_imports_the_cli():
    assert _importers("adjudicator.cli") == {"adjudicator.__main__"}


def test_only_the_cli_imports_the_service():
    importers = _importers("adjudicator.service")
    assert importers  # `serve` does: the check below is not vacuous
    assert {m for m in importers if m != "adjudicator.cli" and not m.startswith("adjudicator.cli.")} == set()


def test_no_import_cycle():
    cycles = []
    for m in sorted(GRAPH.modules):
        for other in GRAPH.find_modules_directly_imported_by(m):
            if other != m and GRAPH.chain_exists(importer=other, imported=m):
                cycles.append((m, other))
    assert cycles == []


def test_every_package_says_what_it_serves_and_may_import():
    names = [info.name for info in pkgutil.walk_packages(adjudicator.__path__, "adjudicator.") if info.ispkg]
    assert {"adjudicator.cli", "adjudicator.engine", "adjudicator.service.desk"} <= set(names)  # subpackages too
    for name in names:
        doc = importlib.import_module(name).__doc__ or ""
        assert doc.strip() and "\n" not in doc.strip(), name   # one line
        assert "import" in doc.lower(), name                    # says what it may import


def test_the_compiled_rulebook_is_built_at_load_not_in_a_claims_run():
    cat = load_catalogue()
    book = load_rulebook()
    assert set(book.compiled) == set(cat.programmes)
    claim = parse_claim(load_bases()["fukuoka-cyber-2025"], cat)
    assert run_rules(claim, book, cat[claim.programme]).trace  # the loaded rulebook runs
    with pytest.raises(KeyError):  # a rulebook read but not compiled cannot run: nothing compiles lazily
        run_rules(claim, read_rulebook(), cat[claim.programme])
