"""Helpers shared by the tests (a plain module: `conftest` names clash with scenarios/conftest.py)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "scenarios" / "examples"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adjudicator", *args], capture_output=True, text=True,
                          cwd=ROOT, input=stdin, timeout=120)
