"""The claim-file contract for editors and people: a JSON Schema (`adjudicator schema claim`) and a
commented claim file to fill in (`adjudicator template PROGRAMME`), both read off the pydantic models
so they cannot drift from what the validator accepts."""
from __future__ import annotations

import datetime as dt
import typing

from .claim import Acts, Attack, Claim, Incident, Leak, LossLine

SCHEMA_ID = "https://adjudicator.invalid/schema/claim.json"


def claim_schema() -> dict:
    """JSON Schema (draft 2020-12) of a claim file. Dates are `format: date` strings."""
    schema = Claim.model_json_schema(mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
              **schema, "title": "adjudicator claim file"}
    schema["description"] = ("A claim file (YAML or JSON) for `adjudicator adjudicate`; see docs/CLAIM_FILE.md. "
                             "Unknown keys are errors.")
    return schema


def _choices(model: type, field: str) -> list[str]:
    ann = model.model_fields[field].annotation
    for a in [ann, *typing.get_args(ann)]:
        if typing.get_origin(a) is typing.Annotated:  # a bounded list: Annotated[list[...], Field(...)]
            a = typing.get_args(a)[0]
        if typing.get_origin(a) is list:
            a = typing.get_args(a)[0]
        if typing.get_origin(a) is typing.Literal:
            return list(typing.get_args(a))
    return []


def _one(model: type, field: str) -> str:
    return " | ".join(_choices(model, field))


def _wrapped(prefix: str, values: list[str], width: int = 96) -> list[str]:
    """Comment lines listing values; every continuation line is a comment too."""
    indent = prefix[:len(prefix) - len(prefix.lstrip())] + "#   "
    out, line = [], prefix
    for v in values:
        piece = v + ", "
        if len(line) + len(piece) > width:
            out.append(line.rstrip())
            line = indent
        line += piece
    out.append(line.rstrip().rstrip(","))
    return out


def claim_template(programme: str, plans: list[str], facilities: list[str], period_start: dt.date) -> str:
    """A commented claim file for `programme`, every field with what it accepts; fill in and adjudicate.
    Its sample dates fall in the programme's first period (a month after it starts)."""
    occurred = period_start + dt.timedelta(days=31)
    discovered = occurred + dt.timedelta(days=1)
    claimed = occurred + dt.timedelta(days=30)
    fukuoka, nagano, jma = programme.startswith("fukuoka"), programme.startswith("nagano"), programme == "jma-support"
    plan = plans[0] if plans else "none"
    lines = [
        f"# Claim file for {programme}: fill in the facts, delete what does not apply, then run",
        "#   adjudicator adjudicate THIS_FILE.yaml --format text",
        "# The contract: docs/CLAIM_FILE.md. Unknown keys are errors; a field left out that the rules need",
        "# gives `needs_information` (never a silent refusal). Dates are YYYY-MM-DD; amounts whole yen.",
        f"programme: {programme}",
        "claim_id: CHANGE-ME-0001        # your claim number (default: the file name)",
        "policy:",
        "  policy_number: CHANGE-ME      # certificate number: claims on one policy share its limits",
        f"  plan: {plan}" + (f"                      # one of: {', '.join(plans)}" if plans else
                              "                    # this scheme has no plans"),
        f"  facility: {facilities[0]}            # {' | '.join(facilities)}",
    ]
    if fukuoka:
        lines.append("  # lost_profit_limit: 10000000  # only with the 利益損害・営業継続費用 option")
        lines.append("  # jma_member: true            # JMA A① member: the JMA 一時支援金 is listed as an unclaimed benefit")
    if not jma:
        lines += [f"  # enrolled_on: {period_start}     # mid-term enrolment: the date the application was received",
                  "  # retroactive_date: 2012-05-01  # 遡及日 on the certificate, if any"]
    else:
        lines.append("  jma_member: true              # JMA A① member")
    lines += [
        "incident:",
        f"  occurred_on: {occurred}       # 事故（事由）発生日",
        f"  discovered_on: {discovered}     # 発見日",
    ]
    if not jma:
        lines.append(f"  claim_made_on: {claimed}     # 損害賠償請求日: when a third party first claimed damages (liability)")
    lines += [
        f"  cause: cyber_attack           # {_one(Incident, 'cause')}",
        "  attack:                       # when the cause is (or may be) a cyber attack",
        f"    kind: ransomware            # {_one(Attack, 'kind')}",
        f"    status: confirmed           # {_one(Attack, 'status')}",
        "    state_sponsored: false",
        f"  discovered_by: security_vendor  # {_one(Incident, 'discovered_by')}",
        "  leak:",
        f"    status: suspected           # {_one(Leak, 'status')}",
        "    personal_records: 1000      # persons whose personal information leaked",
        f"    subjects: [patients]        # any of: {', '.join(_choices(Leak, 'subjects'))}",
        "    corporate_info: false       # 企業情報 leaked",
        "    obtained_by_deceit: false",
        f"  evidence: [public_announcement]  # how the leak became evident, any of: {', '.join(_choices(Incident, 'evidence'))}",
        "  # evidence_dates:              # the date of each evidence item (an apology must be made in the period)",
        "  #   public_announcement: 2025-09-05",
        f"  acts:                         # who acted: {_one(Acts, 'intentional')}",
        "    intentional: none",
        "    crime: none",
        "    known_violation: none",
        "  circumstances: []             # exclusion flags, any of:",
    ]
    lines += _wrapped("                                #   ", _choices(Incident, "circumstances"))
    if fukuoka:
        lines.append("  # software_days_in_production: 30  # new or revised software: days in production")
        lines.append("  # software_defect_caused: false  # the accident was caused by that software's defect (000 §15 利益固有⑧)")
        lines.append("  # breach_of_law_recognised: false  # a possible breach of law recognised (000 §8 イ④: costs without a filing)")
    if jma:
        lines.append("  closure_days: 0               # days closed (incl. stopping all first-visit consultations)")
    lines.append(f"  reports: [{'mhlw' if jma else 'ppc'}]               # any of: {', '.join(_choices(Incident, 'reports'))}")
    lines += ["losses:                         # one line per cost: category and amount in yen"]
    if jma:
        lines.append("  []                            # support payments are fixed amounts: no loss lines needed")
    elif nagano:
        lines += ["  - {category: mental_distress, amount: 7500000, persons: 500}   # persons: for per-person caps",
                  "  - {category: public_notice, amount: 2500000}"]
    else:
        lines += ["  - {category: forensic_investigation, amount: 3000000}",
                  "  - {category: damages, amount: 1000000}"]
    lines += _wrapped("# categories: ", _choices(LossLine, "category"))
    if not jma:
        lines += ["# prior_payments:                # already paid on this policy in this period (else from the ledger)",
                  "#   liability: 0",
                  "#   costs: 0" + ("                    # the ② pool" if fukuoka else ""),
                  "#   brand_protect: 0",
                  "#   lost_profit: 0"]
    return "\n".join(lines) + "\n"
