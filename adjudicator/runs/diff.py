"""What changed between two decisions of the same claim: statuses, amounts, rule firings."""
from __future__ import annotations

from collections import Counter

from ..contract.load import ClaimError
from ..decide import decide
from ..policy.claims import parse_claim


def diff_one(item: tuple, books: dict) -> tuple[dict, list[tuple[str, str]] | None]:
    """One input item decided under each rulebook ({name: (catalogue, rulebook)}): (decisions, None),
    or ({}, problems) when the claim is invalid or fails under either: that claim's error, never the run's."""
    from .batch import internal_problem, load_input
    try:
        data = load_input(item)
    except ClaimError as exc:
        return {}, exc.problems
    decisions = {}
    for name, (cat, book) in books.items():
        try:
            decisions[name] = decide(parse_claim(data, cat), book, cat)
        except ClaimError as exc:
            return {}, exc.problems
        except Exception as exc:  # noqa: BLE001 - isolation (issue 14)
            return {}, [(f, f"under rulebook {name}: {m}") for f, m in internal_problem(exc)]
    return decisions, None


def firings(decision: dict) -> Counter:
    return Counter((t["rule"], t["fired_on"]) for t in decision["trace"])


def compare(a: dict, b: dict) -> dict:
    coverages = []
    for cov in dict.fromkeys(list(a["coverages"]) + list(b["coverages"])):
        ca, cb = a["coverages"].get(cov, {}), b["coverages"].get(cov, {})
        if (ca.get("status"), ca.get("payable")) != (cb.get("status"), cb.get("payable")):
            coverages.append({"coverage": cov, "status": [ca.get("status"), cb.get("status")],
                              "payable": [ca.get("payable", 0), cb.get("payable", 0)]})
    fa, fb = firings(a), firings(b)
    only_a = sorted((fa - fb).elements())
    only_b = sorted((fb - fa).elements())
    return {
        "claim_id": a.get("claim_id"),
        "total": [a["total_payable"], b["total_payable"]],
        "coverages": coverages,
        "fired_only_in_a": [{"rule": r, "fired_on": f} for r, f in only_a],
        "fired_only_in_b": [{"rule": r, "fired_on": f} for r, f in only_b],
        "changed": bool(coverages or only_a or only_b or a["total_payable"] != b["total_payable"]),
    }


def describe(change: dict, a_name: str = "A", b_name: str = "B") -> list[str]:
    out = []
    if change["total"][0] != change["total"][1]:
        out.append(f"  total: {change['total'][0]:,} -> {change['total'][1]:,}")
    for c in change["coverages"]:
        out.append(f"  {c['coverage']}: {c['status'][0]} {c['payable'][0]:,} -> {c['status'][1]} {c['payable'][1]:,}")
    for f in change["fired_only_in_a"]:
        out.append(f"  fired only under {a_name}: {f['rule']} ({f['fired_on']})")
    for f in change["fired_only_in_b"]:
        out.append(f"  fired only under {b_name}: {f['rule']} ({f['fired_on']})")
    return out
