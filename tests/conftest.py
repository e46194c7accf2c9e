import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "scenarios" / "examples"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adjudicator", *args], capture_output=True, text=True,
                          cwd=ROOT, input=stdin, timeout=120)


@pytest.fixture
def bases() -> dict:
    from adjudicator.verify import load_bases
    return copy.deepcopy(load_bases())


@pytest.fixture
def write_claim(tmp_path):
    def _write(data: dict, name: str = "claim.yaml") -> Path:
        path = tmp_path / name
        if name.endswith(".json"):
            path.write_text(json.dumps(data, default=str), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path
    return _write
