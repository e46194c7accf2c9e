import copy
import json

import pytest
import yaml


@pytest.fixture
def bases() -> dict:
    from adjudicator.verify import load_bases
    return copy.deepcopy(load_bases())


@pytest.fixture
def write_claim(tmp_path):
    def _write(data: dict, name: str = "claim.yaml"):
        path = tmp_path / name
        if name.endswith(".json"):
            path.write_text(json.dumps(data, default=str), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path
    return _write
