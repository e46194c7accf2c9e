"""Read a claim file (YAML or JSON, a path or a parsed dict) into a validated `Claim`.

Every problem is reported with the field path (`incident.discovered_by`, `losses[2].amount`)
and what was expected; all problems are collected, not just the first.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .catalogue import Catalogue, load_catalogue
from . import yamlsafe
from .claim import Claim


class ClaimError(ValueError):
    """Invalid claim input. `problems` is a list of (field path, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{path}: {msg}" for path, msg in problems))


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(claim file)"


def _message(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown field (not in the claim-file contract)"
    if err["type"] == "missing":
        return "required field is missing"
    if err.get("input") is not None and err["type"] not in ("missing",):
        shown = repr(err["input"])
        if len(shown) <= 60 and not isinstance(err["input"], (dict, list)):
            msg += f" (got {shown})"
    return msg


def read_claim_file(path: str | os.PathLike) -> dict:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClaimError([("(claim file)", f"cannot read {p}: {exc}")]) from None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text, object_pairs_hook=_no_duplicates)
        else:
            data = yamlsafe.load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ClaimError([("(claim file)", f"not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {exc}")]) from None
    if not isinstance(data, dict):
        raise ClaimError([("(claim file)", "expected a mapping of fields at the top level")])
    data.setdefault("claim_id", p.stem)
    return data


def _no_duplicates(pairs: list) -> dict:
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _semantic_problems(claim: Claim, catalogue: Catalogue) -> list[tuple[str, str]]:
    """Checks the schema cannot express: impossible date orders, plans of another programme."""
    problems = []
    inc = claim.incident
    if inc.discovered_on < inc.occurred_on:
        problems.append(("incident.discovered_on",
                         f"cannot be before incident.occurred_on ({inc.discovered_on} < {inc.occurred_on})"))
    if inc.claim_made_on is not None and inc.claim_made_on < inc.occurred_on:
        problems.append(("incident.claim_made_on",
                         f"cannot be before incident.occurred_on ({inc.claim_made_on} < {inc.occurred_on})"))
    programme = catalogue[claim.programme]
    plans = programme.plans
    if plans and claim.policy.facility is None:
        problems.append(("policy.facility", f"required for {claim.programme}: one of clinic, dental_clinic, "
                                            "hospital, care_facility"))
    if plans:
        if claim.policy.plan is None:
            problems.append(("policy.plan", f"required for {claim.programme}: one of {', '.join(plans)}"))
        elif claim.policy.plan not in plans:
            problems.append(("policy.plan", f"{claim.policy.plan!r} is not a plan of {claim.programme}; "
                                            f"expected one of {', '.join(plans)}"))
    elif claim.policy.plan is not None and claim.policy.plan.lower() != "none":
        problems.append(("policy.plan", f"{claim.programme} has no plans; leave policy.plan out (or write none)"))
    return problems


def parse_claim(source: Any, catalogue: Catalogue | None = None) -> Claim:
    """Validate a claim from a path or a parsed dict; raise ClaimError naming every bad field."""
    catalogue = catalogue or load_catalogue()
    if isinstance(source, (str, os.PathLike)):
        data = read_claim_file(source)
    elif isinstance(source, dict):
        data = source
    else:
        raise ClaimError([("(claim file)", f"expected a path or a dict, got {type(source).__name__}")])
    try:
        claim = Claim.model_validate(data)
    except ValidationError as exc:
        raise ClaimError([(_path(e["loc"]), _message(e)) for e in exc.errors()]) from None
    problems = _semantic_problems(claim, catalogue)
    if problems:
        raise ClaimError(problems)
    return claim
