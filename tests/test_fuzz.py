"""Issue 14: fuzzing the input gate and the contract (hypothesis, bounded to a few seconds each).

Whatever comes in — a mutated claim dict through the Python API, mutated or random bytes through
the raw-bytes gate the CLI, batch and service share — the outcome is a `ClaimError` naming fields
or a decision, and every decision keeps the money invariants: paid <= claimed per line, every
waterfall step cuts and never adds, every cap a step names holds, the coverage and total sums add
up, and every number fits the output.
"""
import copy
import datetime as dt
import json
import typing

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjudicator.contract import claim as claim_model
from adjudicator.contract.limits import MAX_INT
from adjudicator.contract.load import ClaimError, parse_claim_bytes
from adjudicator.decide import decide, to_json
from adjudicator.engine.examples import load_bases
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

from support import EXAMPLES

CAT, BOOK, BASES = load_catalogue(), load_rulebook(), load_bases()
SEEDS = list(BASES.values()) + [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.yaml"))]
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

WORDS = ["damages", "mental_distress", "corporate_damages", "public_notice", "forensic_investigation", "lost_profit",
         "hospital", "clinic", "care_facility", "S3", "P5000", "C", "D", "none", "confirmed", "suspected",
         "cyber_attack", "human_error", "war", "prior_knowledge", "patients", "jma", "ransomware", "self"]
NASTY = ["", " ", "\u3000", "\n", "\x1b[2J", "\u202e", "\u200b", "\ud800", "```", "# Approved", "<script>",
         "9999-12-31", "0001-01-01", "2025-02-30", "2025-09-01T10:00:00", "1e309", "x" * 300, "長野-2016-001"]
INTS = st.one_of(st.integers(-3, 5_000), st.integers(0, 300_000_000), st.sampled_from([0, 1, 2 ** 53 - 1, 2 ** 53, 2 ** 64,
                                                                                          -2 ** 63, 4 * 10 ** 12]))
SCALARS = st.one_of(st.none(), st.booleans(), INTS, st.floats(allow_nan=True), st.sampled_from(WORDS + NASTY),
                    st.text(max_size=20), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.sampled_from(WORDS + ["amount", "persons", "x"]),
                                                                       inner, max_size=3)), max_leaves=12)


def _paths(node, prefix=()):
    """Every (container path, key) of a claim, to mutate one."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix, k
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix, i
            yield from _paths(v, prefix + (i,))


def _at(node, path):
    for p in path:
        node = node[p]
    return node


def _literals(tp) -> list:
    return list(typing.get_args(tp))


ENUMS = {
    "programme": _literals(claim_model.Programme), "facility": _literals(claim_model.Facility),
    "cause": _literals(claim_model.Cause), "kind": _literals(claim_model.AttackKind),
    "discovered_by": _literals(claim_model.DiscoveredBy), "category": _literals(claim_model.LossCategory),
    "intentional": _literals(claim_model.Actor), "crime": _literals(claim_model.Actor),
    "known_violation": _literals(claim_model.Actor),
    "status": _literals(claim_model.AttackStatus) + _literals(claim_model.LeakStatus),
    "plan": sorted({p for prog in CAT.programmes.values() for p in prog.plans}) + ["none"],
    "circumstances": _literals(claim_model.Circumstance), "subjects": _literals(claim_model.Subject),
    "evidence": _literals(claim_model.Evidence), "reports": _literals(claim_model.Report),
}


def plausible(key, current):
    """A value of the current one's kind (most mutations should reach the engine, not the schema)."""
    if key in ENUMS and isinstance(current, list):
        return st.lists(st.sampled_from(ENUMS[key]), max_size=4)
    if key in ENUMS:
        return st.sampled_from(ENUMS[key])
    if isinstance(current, bool):
        return st.booleans()
    if isinstance(current, int):
        return st.one_of(st.integers(0, max(10, current * 3)), st.sampled_from([0, 1, MAX_INT]))
    if isinstance(current, (dt.date, str)) and str(current)[:2] in ("19", "20"):
        return st.one_of(st.dates(dt.date(2005, 1, 1), dt.date(2035, 12, 31)),
                         st.dates(dt.date(2005, 1, 1), dt.date(2035, 12, 31)).map(str))
    if isinstance(current, str):
        return st.sampled_from(WORDS)
    if isinstance(current, list):
        return st.lists(st.sampled_from(current), max_size=len(current)) if current else st.just([])
    return VALUES


@st.composite
def mutated_claims(draw):
    claim = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(claim))
        if not paths:
            break
        where, key = draw(st.sampled_from(paths))
        parent = _at(claim, where)
        action = draw(st.sampled_from(["plausible"] * 6 + ["set", "delete", "add"]))
        if action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(WORDS + ["note", "persons", "claim_id", "policy_number"]))] = draw(VALUES)
        elif action == "add" and isinstance(parent, list):
            parent.append(draw(VALUES))
        elif action == "plausible":
            parent[key] = draw(plausible(key if isinstance(key, str) else where[-1], parent[key]))
        else:
            parent[key] = draw(VALUES)
    return claim


def check_invariants(d: dict) -> None:
    """The money invariants of a decision."""
    json.loads(to_json(d))  # it serialises
    programme = CAT[d["programme"]]
    for ln in d["lines"]:
        assert 0 <= ln["paid"] <= ln["claimed"] <= MAX_INT
        for s in ln["steps"]:
            assert 0 <= s["after"] <= MAX_INT
            if "before" in s:
                assert s["after"] <= s["before"] and s["cut"] == s["before"] - s["after"], s
            if s["step"] == "per_person_cap":
                assert s["after"] <= s["cap"] == s["per_person"] * s["persons"] <= MAX_INT, s
        if ln["steps"]:
            assert ln["steps"][-1]["after"] == ln["paid"]
    for cov, entry in d["coverages"].items():
        assert 0 <= entry["payable"] <= MAX_INT
        if entry["status"] != "covered":
            assert entry["payable"] == 0
        if "benefit" not in programme.coverages[cov]:
            assert entry["payable"] == sum(ln["paid"] for ln in d["lines"] if ln["coverage"] == cov)
    for c in d["limits_applied"]:
        assert c["after"] <= c["before"]
        if "cap" in c:
            assert c["after"] <= c["cap"]
    assert d["total_payable"] == sum(e["payable"] for e in d["coverages"].values())
    if programme.plans:
        assert d["total_payable"] <= sum(ln["claimed"] for ln in d["lines"])


def adjudicate_or_refuse(data) -> dict | None:
    """A decision (invariants checked) or None for a ClaimError that names its fields; anything
    else propagates and fails the test."""
    try:
        claim = parse_claim(data, CAT)
    except ClaimError as exc:
        assert exc.problems and all(field and msg for field, msg in exc.problems)
        assert all(len(msg) < 2_000 and "\n" not in msg and "\x1b" not in msg for _, msg in exc.problems)
        return None
    d = decide(claim, BOOK, CAT)
    check_invariants(d)
    return d


@FUZZ
@given(mutated_claims())
def test_a_mutated_claim_is_refused_by_field_or_decided_within_the_invariants(claim):
    adjudicate_or_refuse(claim)


def _mutate_bytes(data: bytes, draw) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete", "dup", "truncate"]))
        if op == "flip":
            out[i] = draw(st.integers(0, 255))
        elif op == "insert":
            out[i:i] = draw(st.sampled_from([b"&a ", b"*a", b"<<: ", b"[", b"{", b"? ", b"\n", b"\x00", b"\xff",
                                             b"9999", b'"\\ud800"', b"!!binary ", b"!!python/object ", b"- "]))
        elif op == "delete":
            del out[i:i + draw(st.integers(1, 20))]
        elif op == "dup":
            j = draw(st.integers(i, min(len(out), i + 200)))
            out[j:j] = out[i:j]
        else:
            del out[i:]
    return bytes(out)


@st.composite
def mutated_bytes(draw):
    seed = draw(st.sampled_from(SEEDS))
    fmt = draw(st.sampled_from(["json", "yaml"]))
    text = json.dumps(seed, default=str) if fmt == "json" else yaml.safe_dump(seed, allow_unicode=True)
    return fmt, _mutate_bytes(text.encode("utf-8"), draw)


def _through_the_gate(fmt: str, data: bytes) -> None:
    try:
        parsed = parse_claim_bytes(data, fmt)
    except ClaimError as exc:
        assert exc.problems and all(len(msg) < 2_000 and "\n" not in msg for _, msg in exc.problems)
        return
    adjudicate_or_refuse(parsed)


@FUZZ
@given(mutated_bytes())
def test_mutated_bytes_are_refused_or_decided(case):
    _through_the_gate(*case)


@FUZZ
@given(st.sampled_from(["json", "yaml"]), st.binary(max_size=400))
def test_random_bytes_are_refused_or_decided(fmt, data):
    _through_the_gate(fmt, data)
