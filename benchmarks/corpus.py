"""A benchmark corpus that looks like real claims, built only through the public contract.

    from benchmarks.corpus import make_corpus
    claims = make_corpus(20_000, seed=7)     # list of claim dicts (JSON-ready), same seed -> same list

Every programme and plan (so every plan kind), facilities, all causes, attack kinds and statuses,
discovery channels, leak statuses and subjects, evidence, intentional acts, circumstances (so
exclusions fire), fields left out (so needs_information is asked for), 0-50 loss lines of every
category (a few lines most often, now and then dozens), notes, prior payments, mid-term enrolment,
retroactive dates, dates outside the period, and policy numbers shared by several claims each.

Each claim is a programme's base claim (rules/test_bases.yaml) with a random patch merged in
(adjudicator.engine.examples.merge, the rule examples' own mechanism); a draw the input gate
refuses is redrawn (the generator counts the refusals), so every claim returned parses.
"""
from __future__ import annotations

import datetime as dt
import random
import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adjudicator.contract import claim as contract  # noqa: E402
from adjudicator.contract.load import ClaimError  # noqa: E402
from adjudicator.engine.examples import load_bases, merge  # noqa: E402
from adjudicator.policy.catalogue import load_catalogue  # noqa: E402
from adjudicator.policy.claims import parse_claim  # noqa: E402


def _values(alias) -> list[str]:
    return list(typing.get_args(alias))


CAUSES = _values(contract.Cause)
ATTACK_KINDS = _values(contract.AttackKind)
ATTACK_STATUS = _values(contract.AttackStatus)
DISCOVERED_BY = _values(contract.DiscoveredBy)
LEAK_STATUS = _values(contract.LeakStatus)
SUBJECTS = _values(contract.Subject)
EVIDENCE = _values(contract.Evidence)
ACTORS = _values(contract.Actor)
REPORTS = _values(contract.Report)
CIRCUMSTANCES = _values(contract.Circumstance)
CATEGORIES = _values(contract.LossCategory)
FACILITIES = _values(contract.Facility)
# The categories each programme's pamphlet speaks of (most lines use these; a few use any category).
COMMON = {
    "fukuoka-cyber-2025": ["damages", "litigation_costs", "forensic_investigation", "call_center", "condolence_gifts",
                           "public_notice", "data_recovery", "regulatory_response", "lost_profit", "system_repair",
                           "apology_letters", "network_isolation", "lawyer_consultation", "ransom_payment"],
    "nagano-privacy-2016": ["damages", "mental_distress", "litigation_costs", "public_notice", "call_center",
                            "consulting", "condolence_gifts", "staff_costs", "apology_letters", "corporate_apology"],
    "jma-support": ["other"],
}
NOTES = ["見舞金は患者一人あたり500円", "請求書番号 INV-2025-0042", "弁護士費用（着手金）", "call centre, 3 weeks",
         "<b>escaped?</b> & \"quoted\"", "ログ解析一式"]


def _day(rnd: random.Random, start: dt.date, span_days: int) -> dt.date:
    return start + dt.timedelta(days=rnd.randint(0, span_days))


def _some(rnd: random.Random, pool: list[str], p_absent: float, k_max: int) -> list[str] | None:
    if rnd.random() < p_absent:
        return None
    return sorted(rnd.sample(pool, rnd.randint(0, min(k_max, len(pool)))))


def _n_lines(rnd: random.Random) -> int:
    r = rnd.random()
    if r < 0.12:
        return 0
    if r < 0.80:
        return rnd.randint(1, 6)
    if r < 0.95:
        return rnd.randint(7, 20)
    return rnd.randint(21, 50)


def _patch(rnd: random.Random, prog: str, programme, policy_pool: list[str]) -> dict:
    start = programme.period_start
    end = programme.period_end or dt.date(2026, 12, 31)
    span = (end - start).days
    occurred = _day(rnd, start - dt.timedelta(days=60), span + 120)  # ~10% outside the period
    discovered = occurred + dt.timedelta(days=rnd.choice([0, 0, 1, 3, 10, 45, 200]))
    cause = rnd.choice(CAUSES) if rnd.random() < 0.5 else ("cyber_attack" if prog != "nagano-privacy-2016" else
                                                            rnd.choice(["media_theft", "human_error", "media_loss"]))
    inc: dict = {"occurred_on": occurred.isoformat(), "discovered_on": discovered.isoformat(), "cause": cause}
    if rnd.random() < 0.05:
        inc["cause"] = None  # unknown cause: needs_information
    if rnd.random() < 0.7:
        inc["claim_made_on"] = (discovered + dt.timedelta(days=rnd.randint(0, 120))).isoformat()
    else:
        inc["claim_made_on"] = None
    if cause == "cyber_attack" or rnd.random() < 0.1:
        inc["attack"] = {"kind": rnd.choice(ATTACK_KINDS), "status": rnd.choice(ATTACK_STATUS),
                         "state_sponsored": rnd.random() < 0.03}
        if rnd.random() < 0.05:
            inc["attack"]["status"] = None
    else:
        inc["attack"] = None
    inc["discovered_by"] = rnd.choice(DISCOVERED_BY) if rnd.random() < 0.93 else None
    status = rnd.choice(LEAK_STATUS)
    leak: dict = {"status": status}
    if status != "none" or rnd.random() < 0.2:
        leak["personal_records"] = rnd.choice([0, 1, 12, 150, 1000, 5200, 48000])
        leak["subjects"] = _some(rnd, SUBJECTS, 0.05, 3)
        leak["corporate_info"] = rnd.random() < 0.1
        leak["obtained_by_deceit"] = rnd.random() < 0.05
    else:
        leak.update(personal_records=None, subjects=None, corporate_info=None, obtained_by_deceit=None)
    inc["leak"] = leak if rnd.random() < 0.97 else None
    inc["evidence"] = _some(rnd, EVIDENCE, 0.08, 3)
    # each measure dated on or after the discovery (some far after: outside the period), a few undated
    inc["evidence_dates"] = {k: (discovered + dt.timedelta(days=rnd.choice([0, 1, 5, 30, 400]))).isoformat()
                             for k in (inc["evidence"] or []) if rnd.random() < 0.9} or None
    inc["acts"] = {k: (rnd.choice(ACTORS) if rnd.random() < 0.06 else "none")
                   for k in ("intentional", "crime", "known_violation")}
    r = rnd.random()
    inc["circumstances"] = [] if r < 0.7 else sorted(rnd.sample(CIRCUMSTANCES, 1 if r < 0.92 else rnd.randint(2, 4)))
    if rnd.random() < 0.15:
        inc["software_days_in_production"] = rnd.choice([0, 10, 29, 30, 31, 400])
        inc["software_defect_caused"] = rnd.random() < 0.5
    if prog == "jma-support":
        inc["closure_days"] = rnd.choice([0, 0, 1, 2, 3, 5, 12]) if rnd.random() < 0.92 else None
    elif rnd.random() < 0.2:
        inc["closure_days"] = rnd.randint(0, 30)
    inc["reports"] = _some(rnd, REPORTS, 0.1, 3)

    policy: dict = {"policy_number": rnd.choice(policy_pool)}
    if programme.plans:
        policy["plan"] = rnd.choice(sorted(programme.plans))
    if prog != "jma-support" or rnd.random() < 0.5:
        policy["facility"] = rnd.choice(FACILITIES)
    if prog == "jma-support":
        policy["jma_member"] = rnd.random() < 0.9 if rnd.random() < 0.95 else None
    if rnd.random() < 0.15:
        policy["enrolled_on"] = _day(rnd, start, max(1, span - 30)).isoformat()
    if rnd.random() < 0.2:
        policy["retroactive_date"] = _day(rnd, start - dt.timedelta(days=900), 900).isoformat()
    if prog == "fukuoka-cyber-2025" and rnd.random() < 0.2:
        policy["lost_profit_limit"] = rnd.choice([1_000_000, 5_000_000, 10_000_000])
    if rnd.random() < 0.1:
        policy["insured_name"] = rnd.choice(["医療法人 青葉会", "さくら歯科クリニック", "Kita Clinic"])

    losses = []
    if prog != "jma-support" or rnd.random() < 0.1:
        records = (leak.get("personal_records") or 0) if inc["leak"] else 0
        for _ in range(_n_lines(rnd)):
            cat = rnd.choice(COMMON[prog]) if rnd.random() < 0.9 else rnd.choice(CATEGORIES)
            line: dict = {"category": cat, "amount": rnd.choice([0, rnd.randint(1, 50_000), rnd.randint(50_000, 3_000_000),
                                                                  rnd.randint(3_000_000, 200_000_000)])}
            if cat in ("mental_distress", "condolence_gifts") and records and rnd.random() < 0.8:
                line["persons"] = rnd.randint(1, records)
            if rnd.random() < 0.08:
                line["note"] = rnd.choice(NOTES)
            losses.append(line)
    patch = {"policy": policy, "incident": inc, "losses": losses}
    if rnd.random() < 0.15:
        patch["prior_payments"] = {k: rnd.choice([0, 0, 100_000, 5_000_000, 90_000_000])
                                   for k in ("liability", "costs", "brand_protect", "lost_profit")}
    return patch


def _strip_none(node):
    """`merge` deletes a key whose patch value is None; a None left inside a new mapping is dropped too."""
    if isinstance(node, dict):
        return {k: _strip_none(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_strip_none(v) for v in node]
    return node


def make_corpus(n: int, seed: int = 7, stats: dict | None = None) -> list[dict]:
    """n claims, each accepted by the input gate; `stats` (if given) receives the refusal count."""
    rnd = random.Random(seed)
    bases, cat = load_bases(), load_catalogue()
    progs = sorted(bases)
    # Policy numbers: a pool per programme, several claims each (about n/4 distinct numbers).
    pools = {p: [f"{p[:2].upper()}-{seed:02d}-{i:06d}" for i in range(max(1, n // 12))] for p in progs}
    out, refused = [], 0
    while len(out) < n:
        prog = rnd.choice(progs)
        claim = _strip_none(merge(bases[prog], _patch(rnd, prog, cat[prog], pools[prog])))
        claim["claim_id"] = f"BENCH-{seed}-{len(out):07d}"
        try:
            parse_claim(claim, cat)
        except ClaimError:
            refused += 1
            continue
        out.append(claim)
    if stats is not None:
        stats["refused"] = refused
    return out


if __name__ == "__main__":  # a quick look at what the corpus holds
    import collections
    import json

    from adjudicator.decide import decide

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    st: dict = {}
    corpus = make_corpus(n, stats=st)
    from adjudicator.engine.rulebook import load_rulebook
    book, cat = load_rulebook(), load_catalogue()
    status, kinds, fired, lines = collections.Counter(), collections.Counter(), collections.Counter(), []
    needs = 0
    for c in corpus:
        d = decide(parse_claim(c, cat), book, cat)
        kinds[(c["programme"], cat[c["programme"]].plan_kind(c["policy"].get("plan")))] += 1
        for cov in d["coverages"].values():
            status[cov["status"]] += 1
        needs += bool(d["needs_information"])
        fired.update(t["rule"] for t in d["trace"])
        lines.append(len(c["losses"]))
    print(json.dumps({"claims": n, "refused_draws": st["refused"], "plan_kinds": {f"{a}/{b}": v for (a, b), v in kinds.items()},
                      "coverage_statuses": status, "with_needs_information": needs, "distinct_rules_fired": len(fired),
                      "lines_max": max(lines), "lines_mean": sum(lines) / len(lines),
                      "policy_numbers": len({c["policy"].get("policy_number") for c in corpus})},
                     ensure_ascii=False, indent=1, default=str))
