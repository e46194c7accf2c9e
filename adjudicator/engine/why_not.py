"""Payment-omission checks (issue 20): why a coverage or a loss line is not paid, and which benefits the
incident's facts reach but no loss line claims. Both are answered by the real engine, not by a list:

- why-not searches the fact domain the claim-file contract defines (its enumerations, booleans, list
  members, a few dates of the period) over the fields the deciding rules read, re-runs the rules on
  each changed claim, and keeps the smallest changes after which the coverage (or line) is covered;
  the caller re-adjudicates each one to show that it pays (the `pays` callback).
- unclaimed benefits are the coverages whose own trigger rules brought them into cover (or that wait
  only for information) while no loss line is claimed under them, in this programme and in the
  fixed-benefit programmes printed with it (same `source` seed in the catalogue).

The search is bounded by work, not by time, so it stays deterministic: at most `max_work` fact
assertions (evaluations x facts per claim) and `max_evaluations` re-runs (rules/why_not.yaml).
"""
from __future__ import annotations

import collections
import copy
import datetime as dt
import functools
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

import orjson
from pydantic import BaseModel, ValidationError

from ..contract import yamlsafe
from ..contract.claim import Claim
from ..contract import limits as _limits
from ..contract.load import ClaimError, ShapeChecked, check_shape
from ..policy.catalogue import Catalogue, Programme
from .coverage import RuleOutcome
from .rulebook import Rulebook
from .facts import facts_fed_by
from .run import MISSING, StatusRuns, changed_properties, run_rules

# Derived facts are changed through the claim-file fields they are computed from.
_DERIVED_TO_FIELDS = {
    "incident.evidence_in_period": ("incident.evidence_dates.insurer_notified", "incident.evidence_dates.public_announcement",
                                    "incident.evidence_dates.apology_letters", "incident.evidence_dates.authority_report"),
    "incident.evidence_undated": ("incident.evidence_dates.insurer_notified", "incident.evidence_dates.public_announcement",
                                  "incident.evidence_dates.apology_letters", "incident.evidence_dates.authority_report"),
    "incident.leak.subjects_count": ("incident.leak.subjects",),
    "cover.start": ("policy.enrolled_on",),
    "cover.end": (),
    "losses.categories": (),
}


@dataclass(frozen=True)
class Change:
    field: str
    op: str          # "set" | "add" | "remove"
    value: Any

    def key(self) -> tuple:
        return (self.field, self.op, _sortable(self.value))


def _sortable(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else repr(v)


def settings(book: Rulebook) -> dict:
    """rules/why_not.yaml: the search bounds and which changes the claimant can still supply."""
    return _settings(book.root)


@functools.lru_cache(maxsize=8)
def _settings(root: str) -> dict:
    return yamlsafe.load((Path(root) / "why_not.yaml").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------ the domain
def _strip(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        else:
            return tp


def _field_type(path: str) -> Any:
    model: Any = Claim
    tp: Any = None
    for part in path.split("."):
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        tp = _strip(model.model_fields[part].annotation)
        model = tp
    return tp


def _get(d: dict, path: str) -> Any:
    node: Any = d
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set(d: dict, path: str, val: Any) -> None:
    parts = path.split(".")
    node = d
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = val


def _dates(claim: Claim, programme: Programme) -> list[dt.date]:
    start, end = programme.cover_start(claim.policy.enrolled_on), programme.period_end
    inside = [d for d in (claim.incident.discovered_on, claim.incident.occurred_on)
              if d >= start and (end is None or d <= end)]
    return list(dict.fromkeys(inside[:1] + [start] + ([end] if end else [])))  # the discovery day first


def candidates(claim: Claim, data: dict, programme: Programme, paths: list[str]) -> list[Change]:
    """Every single change of the claim-file fields in `paths` the contract's domain allows."""
    out: list[Change] = []
    for path in paths:
        tp = _field_type(path)
        if tp is None:
            continue
        now = _get(data, path)
        origin = typing.get_origin(tp)
        if path == "policy.plan":
            out += [Change(path, "set", p) for p in programme.plans if p != now]
        elif origin is Literal:
            out += [Change(path, "set", v) for v in typing.get_args(tp) if v != now]
        elif origin is list:
            members = typing.get_args(_strip(typing.get_args(tp)[0]))
            have = set(now or [])
            out += [Change(path, "add", m) for m in members if m not in have]
            out += [Change(path, "remove", m) for m in members if m in have]
        elif tp is bool:
            out += [Change(path, "set", v) for v in (True, False) if v != now]
        elif tp is dt.date:
            out += [Change(path, "set", d) for d in _dates(claim, programme) if d != now]
    return out


def _own_path(d: dict, path: str) -> None:
    """Copy the dicts along `path` (the rest stays shared with the claim it came from: nothing writes it)."""
    node = d
    for part in path.split(".")[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return
        node[part] = child = dict(child)
        node = child


def apply(data: dict, changes: tuple[Change, ...]) -> dict:
    """The claim data with the changes made; `data` is left as it was (the changed paths are copied,
    lists are replaced, never edited in place)."""
    d = dict(data)
    for ch in changes:
        _own_path(d, ch.field)
    for ch in changes:
        if ch.op == "set":
            _set(d, ch.field, ch.value)
        else:
            items = list(_get(d, ch.field) or [])
            items = items + [ch.value] if ch.op == "add" else [x for x in items if x != ch.value]
            _set(d, ch.field, items)
    return d


def _shape_room(data: dict) -> int | None:
    """The input gate's spare value budget on the unchanged claim (None: it refuses the claim itself)."""
    try:
        return check_shape(data)
    except ClaimError:
        return None


def _within_shape(changes: tuple[Change, ...], room: int | None) -> bool:
    """The changed claim passes the input gate's shape bounds without walking it again: each change puts
    one scalar (a contract literal, a bool, a date, a plan id) at a claim-file path, making at most one
    new value per part of the path, on a claim that passed with `room` values to spare."""
    if room is None:
        return False
    limits, new = _limits.DEFAULT, 0
    for ch in changes:
        parts = ch.field.split(".")
        if len(parts) + 1 >= limits.max_depth or any(len(p) > limits.max_key for p in parts) or \
                (isinstance(ch.value, str) and len(ch.value) > limits.max_string):
            return False
        new += len(parts) + 1
    return new <= room


def claim_paths(book: Rulebook, programme: Programme, rule_ids: list[str]) -> list[str]:
    """The claim-file fields the given rules read (derived facts through their sources)."""
    compiled = book.compiled[programme.id]
    out: list[str] = []
    for rid in rule_ids:
        if book.rules_by_id[rid].plans:
            out.append("policy.plan")
        for p in compiled.paths[rid]:
            if p.startswith("line."):
                continue
            out.extend(_DERIVED_TO_FIELDS.get(p, (p,)))
    return list(dict.fromkeys(out))


def _rules_touching(book: Rulebook, programme: Programme, coverage: str | None) -> list[str]:
    compiled = book.compiled[programme.id]
    return [r.id for r in book.for_programme(programme.id)
            if (coverage is None and r.effect.kind in ("map_line", "refuse_line"))
            or (coverage is not None and coverage in compiled.targets[r.id])]


# ------------------------------------------------------------------------------------ the search
@dataclass
class Target:
    key: str                  # "coverage:<id>" | "line:<index>"
    coverage: str | None
    line: int | None
    paths: list[str]
    reach: tuple = ("covered",)   # statuses that count as reached (unclaimed benefits: waiting for information too)


def _met(target: Target, outcome: RuleOutcome) -> bool:
    if target.line is not None:
        ln = outcome.lines[target.line]
        return ln.coverage is not None and outcome.coverages[ln.coverage].status in target.reach
    return outcome.coverages[target.coverage].status in target.reach


def supplied_kind(change: Change, data: dict, conf: dict) -> str | None:
    """What the claimant would supply with this change (report, notice, date, …), or None when the change
    is to the facts themselves (for the auditor)."""
    for entry in conf["claimant_can_supply"]:
        field = entry["field"]
        if field.endswith(".*"):
            if not change.field.startswith(field[:-1]):
                continue
        elif change.field != field:
            continue
        if entry.get("op", change.op) != change.op:
            continue
        if "to" in entry and entry["to"] != change.value:
            continue
        if entry.get("only_if_absent") and _get(data, change.field) is not None:
            continue
        if "from" in entry and _get(data, change.field) not in entry["from"]:
            continue   # e.g. a finding already made (an attack ruled out) is not the claimant's to supply
        return entry["kind"]
    if change.op == "set" and _get(data, change.field) is None:
        return conf["absent_field_kind"]   # supplying a fact the file does not give
    return None


def _blocking(target: Target, outcome: RuleOutcome) -> tuple[str, frozenset]:
    """The target's status and the rules holding it back (exclusions, refusals, missing facts)."""
    cov = target.coverage
    if target.line is not None:
        cov = outcome.lines[target.line].coverage
        if cov is None:
            return "refused", frozenset()
    st = outcome.coverages[cov]
    return st.status, frozenset(r["rule"] for kind in ("exclude", "not_cover", "need")
                                for r in st.effects.get(kind, []) if r.get("rule"))


def _improves(target: Target, before: tuple[str, frozenset], outcome: RuleOutcome) -> bool:
    status, rules = _blocking(target, outcome)
    return status != before[0] or rules < before[1]


Validate = Callable[[dict], Claim]   # the claim-file gate with the catalogue's checks (policy/claims.py)


def search(claim: Claim, book: Rulebook, programme: Programme, targets: list[Target],
           conf: dict, validate: Validate, supply_only: bool = False,
           reference: bool = False) -> tuple[dict[str, list[tuple[Change, ...]]], dict]:
    """The smallest change sets (size 1, then 2) that put each target in cover; shared re-runs.

    Pairs join a single change that improved the target (its status moved, or fewer rules hold it back)
    with any other single change, claimant-supplied ones first, so the pair search stays small."""
    bounds = conf["search"]
    data = claim.model_dump(mode="python", exclude_none=True)
    facts_per_run = 1 + len(claim.losses)
    max_runs = min(int(bounds["max_evaluations"]), max(1, int(bounds["max_work"]) // facts_per_run))
    paths = list(dict.fromkeys(p for t in targets for p in t.paths))
    singles = candidates(claim, data, programme, paths)
    kinds = {c: supplied_kind(c, data, conf) for c in singles}
    if supply_only:
        singles = [c for c in singles if kinds[c]]
    singles.sort(key=lambda c: (kinds[c] is None, paths.index(c.field)))  # stable: domain order
    position = {c: i for i, c in enumerate(singles)}
    rules_for = StatusRuns(book, programme, reference)
    found: dict[str, list[tuple[Change, ...]]] = {t.key: [] for t in targets}
    runs = 0
    complete = True

    room = _shape_room(data)

    def run(changes: tuple[Change, ...]) -> RuleOutcome | None:
        changed = apply(data, changes)
        if _within_shape(changes, room):
            changed = ShapeChecked(changed)   # the gate does not walk it again
        try:
            changed = validate(changed)
        except (ClaimError, ValidationError):   # a change the contract or the catalogue refuses: not a suggestion
            return None
        return rules_for(changed)

    base = run(())
    before = {t.key: _blocking(t, base) for t in targets} if base is not None else {}
    improving: dict[str, list[Change]] = {t.key: [] for t in targets}

    # A larger change's claim fact from what each of its single changes gave alone (merged_head). Its
    # outcome decides whether it can put a target in cover; only then does the changed claim go through
    # the gate and the rules as itself (a refused one is no suggestion): every suggestion passed the gate,
    # as before, and the gate is skipped where nothing would be found.
    base_head = rules_for.base_head if base is not None and rules_for.takes_facts else None
    deltas: dict[Change, dict] = {}

    def merged(combo: tuple[Change, ...]) -> dict | None:
        return None if base_head is None else merged_head(base_head, deltas, data, combo)

    def size(n: int) -> Any:
        if n == 1:
            return ((c,) for c in singles)
        seen: set = set()
        pairs = []
        ckey = {c: c.key() for c in singles}
        for t in targets:
            for a in improving[t.key]:
                for b in singles:
                    key = (ckey[a], ckey[b]) if ckey[a] <= ckey[b] else (ckey[b], ckey[a])
                    if b.field != a.field and key not in seen:
                        seen.add(key)
                        pairs.append((a, b) if position[a] < position[b] else (b, a))
        return iter(pairs)

    def supplied(combo: tuple[Change, ...]) -> bool:
        return all(kinds[c] for c in combo)

    has_supply = {t.key: False for t in targets}
    max_found = int(bounds["max_suggestions"]) * 2
    target_paths = {t.key: frozenset(t.paths) for t in targets}
    for n in range(1, int(bounds["max_size"]) + 1):
        # a larger change is tried only where no smaller one was found: any at all, or one the claimant can make
        open_targets = [t for t in targets if not has_supply[t.key]]
        if not open_targets:
            break
        searched = {t.key: bool(found[t.key]) for t in targets}
        for combo in size(n):
            is_supply = supplied(combo)
            want = [t for t in open_targets if len(found[t.key]) < max_found
                    and (is_supply or not searched[t.key]) and any(c.field in target_paths[t.key] for c in combo)]
            if not want:
                continue
            if runs >= max_runs:
                complete = False
                break
            runs += 1
            head = merged(combo) if n > 1 else None
            if head is None:
                outcome = run(combo)
            else:
                outcome = rules_for.for_head(head)
                if any(_met(t, outcome) for t in want):
                    outcome = run(combo)   # it would be found: as itself, through the gate
            if outcome is None:
                continue
            if n == 1 and base_head is not None:
                head1 = rules_for.last_head
                deltas[combo[0]] = {k: head1.get(k, MISSING) for k in changed_properties(head1, base_head)}
            for t in want:
                if _met(t, outcome):
                    if not any(_same(combo, other) for other in found[t.key]):
                        found[t.key].append(combo)
                        has_supply[t.key] = has_supply[t.key] or is_supply
                elif n == 1 and t.key in before and _improves(t, before[t.key], outcome):
                    improving[t.key].append(combo[0])
        if not complete:
            break
    return found, {"evaluated": runs, "complete": complete}


def merged_head(base_head: dict, deltas: dict[Change, dict], data: dict, combo: tuple[Change, ...]) -> dict | None:
    """The claim fact of `combo` from the claim fact properties each of its changes changed alone
    (`deltas`, MISSING: removed), where that is exact: each change passed the gate alone, their fields feed
    no claim fact property in common (facts.DERIVED_FROM), they changed no property in common, and none
    creates a part of the claim file the claim lacks (that part's defaults would come with each). Else None."""
    fed: set = set()
    props: set = set()
    for c in combo:
        d = deltas.get(c)
        if d is None:
            return None
        f = facts_fed_by(c.field)
        parent = c.field.rpartition(".")[0]
        if fed & f or props & d.keys() or (parent and not isinstance(_get(data, parent), dict)):
            return None
        fed |= f
        props |= d.keys()
    head = dict(base_head)
    for c in combo:
        for k, v in deltas[c].items():
            if v is MISSING:
                head.pop(k, None)
            else:
                head[k] = v
    return head


def _same(a: tuple[Change, ...], b: tuple[Change, ...]) -> bool:
    """Two suggestions that differ only in which date they name are one suggestion (the first is kept)."""
    def shape(combo: tuple[Change, ...]) -> list:
        return sorted((c.field, c.op, None if isinstance(c.value, dt.date) or c.field == "policy.plan"
                       else repr(c.value)) for c in combo)
    return shape(a) == shape(b)


def _value(v: Any) -> Any:
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v.isoformat() if isinstance(v, dt.date) else v


def describe(changes: tuple[Change, ...], data: dict, conf: dict) -> list[dict]:
    """Each change as field, op, value (the member added or removed for a list), from and to."""
    after = apply(data, changes)
    return [{"field": c.field, "op": c.op, "value": _value(c.value), "from": _value(_get(data, c.field)),
             "to": _value(_get(after, c.field)), "supplied": supplied_kind(c, data, conf)} for c in changes]


def why_not(claim: Claim, book: Rulebook, programme: Programme, outcome: RuleOutcome, decision: dict,
            pays: Callable[[Claim], dict], validate: Validate,
            reference: bool = False) -> tuple[dict[str, dict], dict[int, dict]]:
    """why_not for each refused / excluded / cut coverage and each refused line of `decision`.

    `pays(claim)` re-adjudicates a changed claim (without why-not) and returns its decision: a suggestion
    is kept only if the coverage (line) then pays more than nothing."""
    conf = settings(book)
    covs, lines = decision["coverages"], decision["lines"]
    claimed: dict[str, int] = {}
    for ln in lines:
        if ln["coverage"] is not None:
            claimed[ln["coverage"]] = claimed.get(ln["coverage"], 0) + ln["claimed"]
    # a fixed-benefit programme's claim asks for its benefits; why-not on them when none is paid
    benefits_claimed = not any(e["status"] == "covered" for c, e in covs.items() if _is_benefit(programme, c))
    targets: list[Target] = []
    for cov, entry in covs.items():
        if entry["status"] in ("not_covered", "excluded") and (
                cov in claimed or (_is_benefit(programme, cov) and benefits_claimed)):
            targets.append(Target(f"coverage:{cov}", cov, None,
                                  claim_paths(book, programme, _rules_touching(book, programme, cov))))
    for ln in lines:
        if ln["coverage"] is None:
            rule_ids = _rules_touching(book, programme, None)
            targets.append(Target(f"line:{ln['index']}", None, ln["index"], claim_paths(book, programme, rule_ids)))
    found, stats = search(claim, book, programme, targets, conf, validate, reference=reference) if targets else ({}, {})
    data = claim.model_dump(mode="python", exclude_none=True)
    trace = {t["rule"]: t for t in decision["trace"]}

    limit = int(conf["search"]["max_suggestions"])
    verified: dict[tuple, dict] = {}   # one re-adjudication per suggestion, shared by its lines

    def result(target: Target, reasons: list[dict], key: str | None = None) -> dict:
        decided = [{"rule": r.get("rule"), "clause": r["clause"],
                    "facts": trace[r["rule"]]["facts"] if r.get("rule") in trace else {}} for r in reasons]
        supply, facts = [], []
        for combo in found.get(key or target.key, []):
            ck = tuple(c.key() for c in combo)
            if ck not in verified:
                verified[ck] = pays(validate(apply(data, combo)))
            after = verified[ck]
            paid = (after["coverages"][target.coverage]["payable"] if target.line is None
                    else after["lines"][target.line]["paid"])
            if paid <= 0:
                continue  # covered but pays nothing (e.g. limits already used): not a suggestion
            desc = describe(combo, data, conf)
            item = {"changes": desc, "pays": paid}
            bucket = supply if all(d["supplied"] for d in desc) else facts
            if len(bucket) < limit and (not bucket or len(bucket[0]["changes"]) == len(desc)):
                bucket.append(item)   # the smallest changes of each kind only
        return {"decided_by": decided, "claimant_can_supply": supply, "facts_would_have_to_be": facts,
                "search": stats}

    by_cov: dict[str, dict] = {}
    by_line: dict[int, dict] = {}
    for t in targets:
        if t.coverage is not None:
            by_cov[t.coverage] = result(t, covs[t.coverage]["reasons"])
        else:
            by_line[t.line] = result(t, [lines[t.line]["refused"]])
    by_key = {t.key: t for t in targets}
    for ln in lines:
        key = f"coverage:{ln['coverage']}"
        if key in by_key and ln["paid"] == 0:   # a line refused with its coverage: the same search, its own amount
            t = by_key[key]
            by_line[ln["index"]] = result(Target(key, None, ln["index"], t.paths), covs[ln["coverage"]]["reasons"], key)
    # cut: covered, paid less than claimed; the policy's own limits decided it (no fact change pays more)
    for cov, entry in covs.items():
        if entry["status"] == "covered" and cov in claimed and entry["payable"] < claimed[cov]:
            cuts = [{"step": s["step"], "clause": s.get("clause", ""), "cut": s["cut"]}
                    for ln in lines if ln["coverage"] == cov for s in ln.get("steps", []) if s.get("cut")]
            cuts += [{"step": c.get("step", "limit"), "clause": c.get("clause", ""), "cut": c.get("cut", 0)}
                     for c in decision["limits_applied"] if c.get("coverage") == cov]
            by_cov[cov] = {"decided_by": cuts, "claimant_can_supply": [], "facts_would_have_to_be": [],
                           "policy_limits": True}
    return by_cov, by_line


def _is_benefit(programme: Programme, cov: str) -> bool:
    return "benefit" in programme.coverages[cov]


# ------------------------------------------------------------------------------- unclaimed benefits
def _trigger_clause(book: Rulebook, programme: Programme, cov: str, outcome: RuleOutcome) -> str:
    """The clause of the coverage's own trigger rule that fired (else its first trigger rule)."""
    compiled = book.compiled[programme.id]
    fired = [r["rule"] for r in outcome.coverages[cov].effects.get("cover", [])]
    if fired:
        return book.rules_by_id[fired[0]].clause
    triggers = [r for r in book.for_programme(programme.id) if r.effect.kind == "cover" and cov in compiled.targets[r.id]]
    return triggers[0].clause if triggers else programme.coverages[cov]["reference"]


def _needs_for(cov: str, outcome: RuleOutcome, book: Rulebook, programme: Programme) -> list[dict]:
    out = [{"kind": "information", "field": n["field"], "text": n["why"], "text_en": n["why_en"]}
           for n in outcome.needs if cov in n["coverages"]]
    compiled = book.compiled[programme.id]
    for duty in outcome.duties:
        if cov in compiled.targets[duty["rule"]] and duty["id"] in book.duties:
            out.append({"kind": "requirement", "field": None, "text": book.duties[duty["id"]]["ja"],
                        "text_en": book.duties[duty["id"]]["en"], "clause": duty["clause"]})
    return out


def unclaimed(claim: Claim, book: Rulebook, catalogue: Catalogue, outcome: RuleOutcome,
              amount: Callable[[Programme, str, Claim], int | None], validate: Validate,
              reference: bool = False) -> list[dict]:
    """What the incident's facts reach but no loss line claims, here and in the fixed-benefit programmes
    the same seed prints (e.g. the JMA support after a Fukuoka cyber attack)."""
    conf = settings(book)
    programme = catalogue[claim.programme]
    msg = book.messages["unclaimed_loss_lines"]
    out: list[dict] = []
    claimed = {ln.coverage for ln in outcome.lines if ln.coverage is not None}
    compiled = book.compiled[programme.id]
    for cov in programme.coverage_ids:
        st = outcome.coverages[cov]
        if _is_benefit(programme, cov) or cov in claimed or st.status not in ("covered", "needs_information"):
            continue
        # A coverage whose rules read the date damages were claimed answers a third party's claim: without
        # one there is nothing for the insured to claim under it (choice: not listed until a claim is made).
        if claim.incident.claim_made_on is None and any(
                "incident.claim_made_on" in compiled.paths[r] for r in _rules_touching(book, programme, cov)):
            continue
        needs = _needs_for(cov, outcome, book, programme)
        if st.status == "covered":
            needs.append({"kind": "document", "field": "losses", "text": msg["ja"], "text_en": msg["en"]})
        out.append({"programme": programme.id, "coverage": cov, "label": programme.coverages[cov]["label"],
                    "status": st.status, "clause": _trigger_clause(book, programme, cov, outcome),
                    "amount": None, "needs": needs})
    for other in _companions(catalogue, programme):
        out.extend(_companion_entries(claim, book, other, amount, conf, validate, reference))
    return out


# What a fixed-benefit programme printed with this one answers depends only on the incident as a claim of
# that programme (_as_programme_data: policy holder, facility, membership, the incident; no loss lines,
# and not the claim id's value, which no rule and no benefit reads), so claims of one incident (several claims of
# one policy, a claim decided again on the desk) share it: kept per process, the last _MEMO_SIZE incidents.
_MEMO_SIZE = 512
_memo: "collections.OrderedDict[tuple, tuple]" = collections.OrderedDict()


def _companion_entries(claim: Claim, book: Rulebook, other: Programme,
                       amount: Callable[[Programme, str, Claim], int | None], conf: dict, validate: Validate,
                       reference: bool = False) -> list[dict]:
    if reference:   # the reference path computes everything afresh (what the tests compare against)
        return _other_programme(claim, book, other, amount, conf, validate, reference)
    data = _as_programme_data(claim, other)
    # the claim id's value is not in the key, whether there is one is (the claim passed the contract's
    # check of it, the companion claim is checked by the same)
    key = (id(book), id(other), orjson.dumps(dict(data, claim_id=data["claim_id"] is not None),
                                            option=orjson.OPT_SORT_KEYS))
    hit = _memo.get(key)
    if hit is not None and hit[0] is book and hit[1] is other:
        _memo.move_to_end(key)
        return copy.deepcopy(hit[2])
    entries = _other_programme(claim, book, other, amount, conf, validate, reference)
    _memo[key] = (book, other, copy.deepcopy(entries))
    while len(_memo) > _MEMO_SIZE:
        _memo.popitem(last=False)
    return entries


def _companions(catalogue: Catalogue, programme: Programme) -> list[Programme]:
    src = programme.data.get("source")
    return [p for pid, p in sorted(catalogue.programmes.items())
            if pid != programme.id and src is not None and p.data.get("source") == src
            and p.coverages and all("benefit" in c for c in p.coverages.values())]


def _as_programme_data(claim: Claim, other: Programme) -> dict:
    """The same incident as a claim file of a fixed-benefit programme (no plan, no loss lines)."""
    data = claim.model_dump(mode="python", exclude_none=True)
    policy = {k: v for k, v in data["policy"].items() if k in ("policy_number", "insured_name", "facility", "jma_member")}
    return {"programme": other.id, "claim_id": claim.claim_id, "policy": policy, "incident": data["incident"],
            "losses": []}


def _as_programme(claim: Claim, other: Programme, validate: Validate) -> Claim | None:
    try:
        return validate(_as_programme_data(claim, other))
    except (ClaimError, ValidationError):
        return None


def _other_programme(claim: Claim, book: Rulebook, other: Programme,
                     amount: Callable[[Programme, str, Claim], int | None], conf: dict, validate: Validate,
                     reference: bool = False) -> list[dict]:
    as_other = _as_programme(claim, other, validate)
    if as_other is None or other.id not in book.compiled:
        return []
    outcome = run_rules(as_other, book, other)
    compiled = book.compiled[other.id]
    duty_rules = [r for r in book.for_programme(other.id) if r.effect.kind == "duty" and r.effect.target in book.duties]

    def requirements(cov: str) -> list[dict]:
        """The programme's own duty rules for the coverage (or the whole programme): its report requirements."""
        seen, out = set(), []
        for r in duty_rules:
            if (not compiled.targets[r.id] or cov in compiled.targets[r.id]) and r.effect.target not in seen:
                seen.add(r.effect.target)
                text = book.duties[r.effect.target]
                out.append({"kind": "requirement", "field": None, "text": text["ja"], "text_en": text["en"],
                            "clause": r.clause})
        return out
    out = []
    pending: list[Target] = []
    for cov in other.coverage_ids:
        st = outcome.coverages[cov]
        if st.status in ("covered", "needs_information"):
            out.append({"programme": other.id, "coverage": cov, "label": other.coverages[cov]["label"],
                        "status": st.status, "clause": _trigger_clause(book, other, cov, outcome),
                        "amount": amount(other, cov, as_other) if st.status == "covered" else None,
                        "needs": [n for n in _needs_for(cov, outcome, book, other) if n["kind"] != "requirement"]
                        + requirements(cov)})
        elif st.status == "not_covered" and any(r.get("rule") for r in st.reasons):
            pending.append(Target(f"coverage:{cov}", cov, None,
                                  claim_paths(book, other, _rules_touching(book, other, cov)),
                                  reach=("covered", "needs_information")))
    if pending:
        # reachable only if the claimant supplies something (a report, a notice): search for it
        found, _ = search(as_other, book, other, pending, conf, validate, supply_only=True, reference=reference)
        data = as_other.model_dump(mode="python", exclude_none=True)
        for t in pending:
            supplies = [c for c in found[t.key] if all(supplied_kind(ch, data, conf) for ch in c)]
            if not supplies:
                continue
            changed = validate(apply(data, supplies[0]))
            after = run_rules(changed, book, other)
            needs = [{"kind": d["supplied"], "field": d["field"], "change": d, "text": None, "text_en": None}
                     for d in describe(supplies[0], data, conf)]
            needs += [n for n in _needs_for(t.coverage, after, book, other) if n["kind"] == "information"]
            needs += requirements(t.coverage)
            needs += [{"kind": "refused_now", "field": None, "text": r["text"], "text_en": r["text_en"],
                       "clause": r["clause"]} for r in outcome.coverages[t.coverage].reasons]
            out.append({"programme": other.id, "coverage": t.coverage, "label": other.coverages[t.coverage]["label"],
                        "status": "not_covered", "clause": _trigger_clause(book, other, t.coverage, after),
                        "amount": amount(other, t.coverage, changed) if after.coverages[t.coverage].status == "covered"
                        else None, "needs": needs})
    order = other.coverage_ids
    return sorted(out, key=lambda e: order.index(e["coverage"]))


