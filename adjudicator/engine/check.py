"""`rules check`: the rulebook's own problems (ids, clauses, texts, coverages, facts, reachability),
found before any claim is run; the rule examples follow in examples.py."""
from __future__ import annotations

import os

from ..policy.catalogue import load_catalogue
from .compile import condition_paths, contradictions
from .rulebook import Rulebook, RulebookError, load_rulebook, read_rulebook


def check_rulebook(root: str | os.PathLike | None = None) -> list[str]:
    """Problems with the rulebook (empty list = fine): ids, clauses, texts, coverages, reachability."""
    problems: list[str] = []
    try:
        book = read_rulebook(root)
    except RulebookError as exc:
        return exc.problems
    catalogue = load_catalogue(root)
    problems.extend(_payment_clocks(catalogue))
    seen: dict[str, str] = {}
    for rule in book.rules:
        where = f"{rule.source_file}: {rule.id}"
        if rule.id in seen:
            problems.append(f"{where}: duplicate id (also in {seen[rule.id]})")
        seen[rule.id] = rule.source_file
        if not rule.clause.strip() or not rule.clause.split()[0] in ("000", "004"):
            problems.append(f"{where}: clause must cite a seed section such as '000 §15 共通⑪'")
        for prog in rule.programmes:
            if prog not in catalogue.programmes:
                problems.append(f"{where}: unknown programme {prog!r}")
                continue
            programme = catalogue[prog]
            for cov in rule.effect.coverages:
                try:
                    programme.group(cov)
                except KeyError as exc:
                    problems.append(f"{where}: {exc.args[0]}")
            if rule.plans:
                for kind in rule.plans:
                    if kind not in programme.data.get("plan_kinds", {}):
                        problems.append(f"{where}: unknown plan kind {kind!r} for {prog}")
        if rule.effect.kind == "duty" and rule.effect.target not in book.duties:
            problems.append(f"{where}: duty {rule.effect.target!r} has no text in messages.yaml")
        if rule.on == "line" and rule.effect.kind not in ("map_line", "refuse_line", "need", "note"):
            problems.append(f"{where}: a line rule may only map, refuse, need or note")
        if rule.on == "claim" and rule.effect.kind in ("map_line", "refuse_line"):
            problems.append(f"{where}: map_line/refuse_line need `on: line`")
        if rule.on == "claim" and rule.line:
            problems.append(f"{where}: `line` conditions need `on: line`")
        if not rule.generated_from:
            if "fires" not in rule.tests or "silent" not in rule.tests:
                problems.append(f"{where}: tests need a `fires` and a `silent` claim patch")
        if rule.effect.kind in REFUSALS and not rule.plans and rule.absence_is_fact is None \
                and not any(applies_on_a_fact(c) for c in rule.when + rule.line):
            problems.append(f"{where}: a refusal or exclusion must apply on a fact the claim gives, not only on "
                            f"absent ones (or say why the absence is the fact: absence_is_fact)")
        try:
            list(condition_paths(rule))  # raises on an unknown fact or operator
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    if not problems:
        try:  # compiled as a claim's run loads it (and kept: the rule examples run on it next)
            load_rulebook(root)
        except RulebookError as exc:
            problems.extend(exc.problems)
        problems.extend(_unreachable(book))
    return problems


REFUSALS = ("exclude", "not_cover", "refuse_line")


def _payment_clocks(catalogue) -> list[str]:
    """Every programme states its payment clock (the desk's due dates and overdue marks rest on it)."""
    out = []
    for pid, prog in catalogue.programmes.items():
        node = (prog.data.get("payment_clock") or {}).get("days")
        days = node.get("value") if isinstance(node, dict) else None
        if not isinstance(days, int) or isinstance(days, bool) or days < 1 or not str(node.get("reference") or "").strip():
            out.append(f"programmes/{pid}: payment_clock.days needs a whole number of days >= 1 and its reference")
    return out


def applies_on_a_fact(cond: dict) -> bool:
    """Whether a condition holds only when some fact is present (issue 20: an exclusion or refusal never
    rests on an absent fact). Every comparison needs its fact; only `present: false` does not."""
    if "any" in cond:
        return all(applies_on_a_fact(c) for c in cond["any"])
    if "all" in cond:
        return any(applies_on_a_fact(c) for c in cond["all"])
    return cond.get("present") is not False


def _unreachable(book: Rulebook) -> list[str]:
    """A rule is unreachable when its conditions contradict themselves (e.g. a fact both equal to
    two different values, or required present and absent at once), or it names no programme."""
    out = []
    for rule in book.rules:
        if not rule.programmes:
            out.append(f"{rule.source_file}: {rule.id}: applies to no programme (unreachable)")
        for why in contradictions(rule):
            out.append(f"{rule.source_file}: {rule.id}: unreachable: {why}")
    return out
