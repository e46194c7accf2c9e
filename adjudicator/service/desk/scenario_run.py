"""Run an underwriter's Gherkin text against the rulebook with the project's own step library
(scenarios/conftest.py), in a pytest-bdd subprocess on a temporary feature file, bounded in time.

The step library is copied beside the feature with a small plugin that writes, per scenario, each
step's outcome and, on a failure, the check's expected/actual and the waterfall steps that cut.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from ...policy.catalogue import rules_dir

TIMEOUT = 60  # seconds for one run
MAX_TEXT = 100_000

PLUGIN = r'''
import json, os
RESULTS = []
def _cur():
    return RESULTS[-1]
def pytest_bdd_before_scenario(request, feature, scenario):
    RESULTS.append({"name": scenario.name, "feature": feature.name, "steps": [], "status": "passed"})
def pytest_bdd_after_step(request, feature, scenario, step, step_func, step_func_args):
    _cur()["steps"].append({"keyword": step.keyword, "text": step.name, "status": "passed"})
def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args, exception):
    ctx = step_func_args.get("ctx")
    d = getattr(ctx, "decision", None) or {}
    cuts = [{"line": ln["index"] + 1, "category": ln["category"], "step": s["step"], "before": s.get("before"),
             "after": s.get("after"), "cut": s.get("cut"), "clause": s.get("clause", "")}
            for ln in d.get("lines", []) for s in ln.get("steps", []) if s.get("cut")]
    _cur()["steps"].append({"keyword": step.keyword, "text": step.name, "status": "failed",
                            "message": _worded(exception, step_func, step_func_args, ctx)[:4000], "cuts": cuts})
    _cur()["status"] = "failed"
def _worded(exception, step_func, args, ctx):
    """A step's failure in words: never a bare KeyError nor a path on the server."""
    ja, name = _lang() == "ja", getattr(step_func, "__name__", "")
    if isinstance(exception, OSError) and name == "claim_file":
        path = args.get("path", "")
        return f"請求ファイルが scenarios/ の下にありません: {path}" if ja else f"no such claim file under scenarios/: {path}"
    if isinstance(exception, KeyError) and name == "typical_claim":
        known, asked = ", ".join(sorted(load_bases())), args.get("programme", "")
        return f"保険制度「{asked}」はありません（{known} のいずれか）" if ja else \
            f"unknown programme {asked!r}: expected one of {known}"
    if not getattr(ctx, "claim", None) and isinstance(exception, (KeyError, TypeError, AttributeError)):
        return ("最初に請求を用意してください（前提 「…」の標準的な請求、または 前提 請求ファイル「…」）" if ja else
                'start the scenario with a claim (Given a typical … claim, or Given the claim file "…")')
    if isinstance(exception, KeyError):
        return f"請求に {exception} がありません" if ja else f"the claim has no {exception}"
    text = str(exception)
    for folder in (str(HERE.parent), os.path.dirname(os.path.abspath(__file__))):
        text = text.replace(folder + os.sep, "").replace(folder, ".")
    return text
def pytest_bdd_step_func_lookup_error(request, feature, scenario, step, exception):
    _cur()["steps"].append({"keyword": step.keyword, "text": step.name, "status": "undefined"})
    _cur()["status"] = "failed"
def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["DESK_SCENARIO_RESULTS"], "w", encoding="utf-8") as f:
        json.dump(RESULTS, f, ensure_ascii=False)
'''


def project_root() -> Path:
    return rules_dir(None).parent


def run(text: str, rules: str | None = None) -> dict:
    """{ok, scenarios: [{name, status, steps: [...]}], error}: the text's scenarios, run."""
    text = text[:MAX_TEXT]
    lang = "ja" if re.search(r"#\s*language:\s*ja", text) else "en"
    root = project_root()
    library = root / "scenarios"
    if not (library / "conftest.py").exists():
        return {"ok": False, "lang": lang, "scenarios": [], "error": "the step library scenarios/ is not installed"}
    bad = outside_files(text, root)
    if bad:
        return {"ok": False, "lang": lang, "scenarios": [], "error": (
            f"請求ファイルは scenarios/ の下の YAML・JSON ファイルに限られます: {bad}" if lang == "ja"
            else f"claim files must be under scenarios/: {bad}")}
    missing = missing_files(text, root)
    if missing:  # named as the scenario names it: never the server's own path
        return {"ok": False, "lang": lang, "scenarios": [], "error": (
            f"請求ファイルが scenarios/ の下にありません: {missing}" if lang == "ja"
            else f"no such claim file under scenarios/: {missing}")}
    with tempfile.TemporaryDirectory(prefix="desk-scenario-") as tmp:
        work = Path(tmp)
        (work / "features").mkdir()
        (work / "features" / "desk.feature").write_text(text, encoding="utf-8")
        # The step library, its vocabulary, and the plugin; the rule-coverage gate of a full run
        # stays silent on a partial run (its own rule).
        steps = (library / "conftest.py").read_text(encoding="utf-8")
        steps = steps.replace("HERE = Path(__file__).resolve().parent", f"HERE = Path({str(library)!r})", 1)
        (work / "conftest.py").write_text(steps + "\n" + PLUGIN, encoding="utf-8")
        (work / "test_desk.py").write_text('from pytest_bdd import scenarios\nscenarios("features")\n',
                                           encoding="utf-8")
        out = work / "results.json"
        env = {**os.environ, "DESK_SCENARIO_RESULTS": str(out), "PYTHONDONTWRITEBYTECODE": "1"}
        if rules:
            env["ADJUDICATOR_RULES"] = str(Path(rules).resolve())
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(work),
               "-c", os.devnull, "-o", "addopts=", str(work / "test_desk.py")]
        try:
            proc = subprocess.run(cmd, cwd=str(root), env=env, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return {"ok": False, "lang": lang, "scenarios": [], "error": "timeout"}
        results = json.loads(out.read_text(encoding="utf-8")) if out.exists() else []
        if not results:
            return {"ok": False, "lang": lang, "scenarios": [], "error": _error(proc.stdout + proc.stderr, work)}
        return {"ok": all(r["status"] == "passed" for r in results), "lang": lang, "scenarios": results,
                "error": None}


def _error(output: str, work: Path) -> str:
    """Why nothing ran (a Gherkin syntax error, usually): pytest's last meaningful lines, paths stripped."""
    keep: list[str] = []
    for ln in output.replace(str(work) + os.sep, "").splitlines():
        if ln.startswith("E ") and ".py" not in ln:  # pytest's error lines, never the traceback
            text = ln[1:].strip()
            if text and text not in keep:
                keep.append(text)
    return "\n".join(keep[-6:])[:2000] or "no scenario found"


def _claim_files(text: str):
    # steps match in any case (parsers.parse): so does this
    for m in re.finditer(r'claim\s+file\s+"([^"]*)"|請求ファイル\s*「([^」]*)」', text, re.IGNORECASE):
        yield m.group(1) if m.group(1) is not None else m.group(2)


def outside_files(text: str, root: Path) -> str | None:
    """A claim file a scenario names must be a YAML/JSON file under scenarios/ (no other file is read)."""
    base = (root / "scenarios").resolve()
    for name in _claim_files(text):
        path = (root / name).resolve()
        if not path.is_relative_to(base) or path.suffix.lower() not in (".yaml", ".yml", ".json"):
            return name
    return None


def missing_files(text: str, root: Path) -> str | None:
    """A claim file (under scenarios/) a scenario names that is not there."""
    return next((name for name in _claim_files(text) if not (root / name).is_file()), None)
