"""docs/CLAIM_FILE.md names every field of the contract's models, so the document cannot drift from the
code again: every field of the claim file (adjudicator/contract/claim.py, walked through its nested
models) and every key of the decision (contract/decision.py, and the keys of the additive
`unclaimed_benefits` and `why_not` entries, read off real decisions since their models are open dicts)."""
import re
import types
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel

from adjudicator import adjudicate
from adjudicator.contract.claim import Claim
from adjudicator.contract.decision import Decision
from adjudicator.engine.examples import load_bases, merge

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "CLAIM_FILE.md").read_text(encoding="utf-8")
# `coverages.<id>.why_not`, `lines[].paid`, `policy.jma_member`: every backticked dotted name in the document
NAMED = {m.group(1) for m in re.finditer(r"`([A-Za-z_][\w.<>\[\]*]*)`", DOC)}


def _model(tp) -> tuple[type[BaseModel] | None, str]:
    """The pydantic model inside an annotation and how it nests: '' (a field), '[]' (a list), 'dict'."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _model(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        found = [_model(a) for a in typing.get_args(tp) if a is not type(None)]
        return next((m for m in found if m[0] is not None), (None, ""))
    if origin is list:
        return _model(typing.get_args(tp)[0])[0], "[]"
    if origin is dict:
        return _model(typing.get_args(tp)[1])[0], "dict"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp, ""
    return None, ""


def model_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        path = prefix + name
        out.append(path)
        sub, how = _model(field.annotation)
        if sub is not None:
            out += model_paths(sub, path + {"": ".", "[]": "[].", "dict": ".<id>."}[how])
    return out


def _yaml_paths(value, prefix: str = "") -> set[str]:
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(prefix + str(k))
            out |= _yaml_paths(v, f"{prefix}{k}.")
    elif isinstance(value, list):
        for v in value:
            out |= _yaml_paths(v, prefix[:-1] + "[]." if prefix else "")
    return out


def test_the_walk_reaches_nested_models():
    paths = model_paths(Claim)
    assert {"policy.jma_member", "incident.attack.kind", "incident.evidence_dates.apology_letters",
            "losses[].note", "payment.delay_reason"} <= set(paths)
    assert {"coverages.<id>.why_not", "coverages.<id>.reasons[].clause", "lines[].why_not",
            "needs_information[].coverages", "rulebook.sha256"} <= set(model_paths(Decision))


def test_the_document_names_every_claim_file_field():
    block = DOC.split("## Claim file\n```yaml\n", 1)[1].split("```", 1)[0]
    shown = _yaml_paths(yaml.safe_load(block))
    missing = [p for p in model_paths(Claim) if p not in shown and p not in NAMED]
    assert missing == [], f"docs/CLAIM_FILE.md does not name these claim-file fields: {missing}"


def _keys(value, prefix: str, out: set[str]) -> None:
    if prefix.endswith(".facts"):  # `decided_by[].facts` is keyed by fact names, not by contract keys
        return
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(f"{prefix}.{k}")
            _keys(v, f"{prefix}.{k}", out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, prefix + "[]", out)


def _open_keys() -> set[str]:
    """The keys of `unclaimed_benefits[]` and `why_not` (coverage or line) in decisions that use them all."""
    bases = load_bases()
    fk, jma, ng = bases["fukuoka-cyber-2025"], bases["jma-support"], bases["nagano-privacy-2016"]
    claims = [merge(fk, {"policy": {"facility": "clinic", "jma_member": True},
                         "incident": {"reports": ["ppc"], "closure_days": 3}}),           # JMA support, a report to make
              merge(fk, {"incident": {"circumstances": ["war"]}}),                        # excluded: the facts' change
              merge(jma, {"incident": {"reports": []}}),                                  # a report the claimant can make
              merge(ng, {"losses": [{"category": "apology_letters", "amount": 10_000_000}]})]
    claims += sorted((ROOT / "scenarios" / "examples").glob("*.yaml"))
    out: set[str] = set()
    for claim in claims:
        d = adjudicate(claim)
        for entry in d["unclaimed_benefits"]:
            _keys(entry, "unclaimed_benefits[]", out)
        for owner in [*d["coverages"].values(), *d["lines"]]:
            if owner.get("why_not"):
                _keys(owner["why_not"], "why_not", out)
    return out


def test_the_document_names_every_decision_key():
    keys = _open_keys()
    for must in ("unclaimed_benefits[].needs[].kind", "unclaimed_benefits[].needs[].change.supplied",
                 "why_not.claimant_can_supply[].changes[].supplied", "why_not.facts_would_have_to_be[].pays",
                 "why_not.decided_by[].facts", "why_not.search.complete", "why_not.policy_limits"):
        assert must in keys, must  # the claims above do reach every kind of entry
    missing = [p for p in [*model_paths(Decision), *sorted(keys)] if p not in NAMED]
    assert missing == [], f"docs/CLAIM_FILE.md does not name these decision keys: {missing}"


def test_the_fukuoka_template_offers_the_added_fields_and_they_adjudicate_uncommented(capsys):
    """`adjudicator template` prints every field: the Fukuoka one also `policy.jma_member` (the JMA
    support printed with it) and `incident.software_defect_caused` (000 §15 利益固有⑧)."""
    from adjudicator.cli import main
    capsys.readouterr()
    assert main(["template", "fukuoka-cyber-2025"]) == 0
    text = capsys.readouterr().out
    for key in ("jma_member", "software_defect_caused"):
        assert f"  # {key}: " in text, key
    on = text.replace("  # jma_member: ", "  jma_member: ").replace("  # software_days_in_production: ",
                                                                   "  software_days_in_production: ")
    on = on.replace("  # software_defect_caused: ", "  software_defect_caused: ")
    d = adjudicate(yaml.safe_load(on))
    assert any(u["programme"] == "jma-support" for u in d["unclaimed_benefits"])
