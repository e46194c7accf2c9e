"""Render a decision as a document people read: text, Markdown or self-contained HTML, ja or en.

The view built here only *looks up* words: rule titles, texts and seed wording come from the
rulebook, labels from rules/messages.yaml (`ui`), amounts and clauses from the decision itself.
Templates in reports/ decide layout only.

Two views: the decision document (for the handler who signs it and the policyholder who reads it:
no rule ids, no code values, limits named as the seed names them) and the audit view (`audit=True`:
everything of the document plus the trace, code values, the claim file as given and the prior-payment
records used).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import string
import typing
from pathlib import Path
from typing import Any

import jinja2
import yaml

from ..contract.claim import Claim
from ..engine.rulebook import Rulebook, field_label
from ..policy.catalogue import Catalogue

DEFAULT_REPORTS_DIR = Path(__file__).resolve().parents[2] / "reports"

# --- escaping for the text and Markdown documents ------------------------------------------------
# html: Jinja's autoescape. text and md: every printed value passes `_finalize` (control, format and
# separator characters shown as \uNNNN: no terminal control, no bidi reordering, whatever the value's
# source); values from the claim also pass `line` (no line break: no forged line or heading) and, in md,
# `md` (Markdown punctuation escaped: no code span or fence, emphasis, link, table cell or raw HTML).
_MD_SPECIAL = set("\\`*_{}[]<>()#+!|~&$=:\"'")


def _visible(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def escape_controls(value: str, keep_newlines: bool = True) -> str:
    """Control, format (bidi, zero-width) and separator characters made visible; U+3000 and,
    when keep_newlines, line breaks kept."""
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() or ch == "\u3000" or (keep_newlines and ch == "\n") else _visible(ch)
                   for ch in value)


def escape_line(value: object) -> str:
    """A value from the claim on one line of a text document."""
    return escape_controls(str(value), keep_newlines=False)


def escape_md(value: object) -> str:
    """A value from the claim inside a Markdown line: one line, every Markdown punctuation escaped."""
    text = escape_line(value)
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


def md_fence(content: str) -> str:
    """A backtick fence longer than any run of backticks in the content (it cannot close early)."""
    longest = run = 0
    for ch in content:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _finalize(value: Any) -> Any:
    return escape_controls(value) if isinstance(value, str) else value
_TEMPLATES = {"text": "decision.txt.j2", "md": "decision.md.j2", "html": "decision.html.j2"}
# The order the trace is shown in: the stages of a decision (what covers, what excludes, what is
# missing, where each line goes, what is refused, notes, duties); within a stage by line number.
_STAGES = ["cover", "not_cover", "exclude", "need", "map_line", "refuse_line", "note", "duty"]


def yen(amount: int, lang: str) -> str:
    """1,234,567円 in Japanese, ¥1,234,567 in English."""
    if not isinstance(amount, int):
        return str(amount)
    return f"{amount:,}円" if lang == "ja" else f"¥{amount:,}"


def limit_yen(amount: int, lang: str) -> str:
    """A limit as the seeds write it: 1,000万円, 1億円, 1億5,000万円, 10万円 (Japanese); ¥10,000,000 (English).
    Amounts that are not whole 万 stay in full yen."""
    if not isinstance(amount, int) or lang != "ja" or amount <= 0 or amount % 10_000:
        return yen(amount, lang)
    man = amount // 10_000
    oku, rest = divmod(man, 10_000)
    if oku:
        return f"{oku:,}億" + (f"{rest:,}万円" if rest else "円")
    return f"{man:,}万円"


_envs: dict[tuple[str, str, str], jinja2.Environment] = {}


def _env(fmt: str, lang: str) -> jinja2.Environment:
    """One compiled environment per (templates folder, format, language), reused."""
    root = Path(os.environ.get("ADJUDICATOR_REPORTS", DEFAULT_REPORTS_DIR))
    key = (str(root), fmt, lang)
    if key in _envs:
        return _envs[key]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root)), undefined=jinja2.StrictUndefined,
                             autoescape=(fmt == "html"), trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, finalize=None if fmt == "html" else _finalize)
    env.filters["yen"] = lambda n: yen(n, lang)
    env.filters["limit_yen"] = lambda n: limit_yen(n, lang)
    env.filters["line"] = escape_line
    env.filters["md"] = escape_md
    _envs[key] = env
    return env


def _label(ui: dict, group: str | None, key: str, lang: str) -> str:
    node = ui[group] if group else ui
    entry = node.get(key)
    return entry[lang] if entry else key


def _pick(node: Any, *keys: str) -> Any:
    """node[k1][k2]... where each level exists, else None."""
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def _fill(template: str, values: dict) -> str | None:
    """Fill {name} placeholders; None when a value is missing (the caller falls back)."""
    try:
        return string.Formatter().vformat(template, (), _Fields(values))
    except (KeyError, IndexError, ValueError):
        return None


def _value_text(v: Any, ui: dict, lang: str) -> str:
    """A fact value as a person reads it: no None/True/['a', 'b']."""
    words = ui["values"]
    if v is None:
        return words["absent"][lang]
    if v is True:
        return words["yes"][lang]
    if v is False:
        return words["no"][lang]
    if isinstance(v, list):
        return "、".join(_value_text(x, ui, lang) for x in v) if lang == "ja" and v else \
            (", ".join(_value_text(x, ui, lang) for x in v) if v else words["empty"][lang])
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


class DocumentContext:
    """What the view needs besides the decision: the rulebook's words, the programme, the claim."""

    def __init__(self, decision: dict, lang: str, book: Rulebook, catalogue: Catalogue, claim: Claim | None,
                 audit: bool):
        self.decision, self.lang, self.book, self.claim, self.audit = decision, lang, book, claim, audit
        self.ui = book.ui
        self.prog = catalogue[decision["programme"]]
        self.pid = decision["programme"]
        self.rules = book.rules_by_id

    def t(self, group: str | None, key: str) -> str:
        return _label(self.ui, group, key, self.lang)

    # -- steps ---------------------------------------------------------------------------------
    def step_name(self, step: dict, coverage: str | None, hint: dict | None = None) -> str:
        """The step as the seed names it, with the size of the limit: 「1事故保険金額 100万円」."""
        kind = step["step"]
        info = dict(self.treatment_values(coverage, kind), **(hint or {}))
        info.update({k: v for k, v in step.items() if v is not None})
        pool = info.get("pool") or (self.prog.coverages.get(coverage, {}).get("pool") if coverage else None)
        node = _pick(self.ui, "limit_labels", self.pid, kind)
        if isinstance(node, dict) and self.lang not in node:
            node = node.get(pool or "") or node.get("any")
        if isinstance(node, dict) and self.lang in node:
            values = {}
            for k, v in info.items():
                if isinstance(v, int) and not isinstance(v, bool):
                    values[k] = limit_yen(v, self.lang) if k in ("cap", "limit", "per_person", "deductible", "max", "per_day", "amount") \
                        else (f"{v:,}" if k in ("percent", "persons", "days") else yen(v, self.lang))
            filled = _fill(node[self.lang], values)
            if filled:
                return filled
        return self.t("steps", kind)

    def treatment_values(self, coverage: str | None, kind: str) -> dict:
        """The sizes a treatment step of the plan data carries (percent, deductible, cap)."""
        from ..policy.catalogue import value
        for t in self.prog.data.get("treatments", {}).get(coverage or "", []):
            if t["step"] == kind or (kind == "sublimit_deductible" and t["step"] == "sublimit"):
                out = {}
                for src, dst in (("percent", "percent"), ("amount", "deductible"), ("deductible", "deductible"),
                                 ("cap", "cap")):
                    if isinstance(t.get(src), dict) and "value" in t[src]:
                        out[dst] = value(t[src])
                return out
        return {}

    def step_view(self, step: dict, coverage: str | None, hint: dict | None = None) -> dict:
        detail = {k: v for k, v in step.items()
                  if k not in ("step", "before", "after", "cut", "clause", "label", "reading")}
        label = step.get("label")
        return {
            "kind": step["step"],
            "name": self.step_name(step, coverage, hint),
            "label": label[self.lang] if isinstance(label, dict) else "",
            "before": step.get("before"), "after": step.get("after"), "cut": step.get("cut", 0),
            "amount": step.get("amount", step.get("after")) if step.get("before") is None and step["step"] != "claimed" else None,
            "clause": step.get("clause", ""),
            "reading": step["reading"][self.lang] if isinstance(step.get("reading"), dict) else "",
            # code values (percent=90, pool=costs) only in the audit view
            "detail": ", ".join(f"{k}={v}" for k, v in detail.items()) if self.audit else "",
        }

    # -- reasons -------------------------------------------------------------------------------
    def reason_view(self, reason: dict) -> dict:
        rule = self.rules.get(reason.get("rule") or "")
        lang = self.lang
        return {
            "rule": reason.get("rule") or "",
            "clause": reason["clause"],
            "heading": self.clause_heading(reason["clause"]),
            "title": (rule.title.ja if lang == "ja" else rule.title.en) if rule else "",
            "text": reason["text"] if lang == "ja" else reason["text_en"],
            "wording": rule.wording if rule and rule.wording else "",
            "choice": (rule.choice.ja if lang == "ja" else rule.choice.en) if rule and rule.choice else "",
            "effect": reason.get("effect") or "default",
        }

    def clause_heading(self, clause: str) -> str:
        return clause_heading(self.ui, self.pid, clause, self.lang)


def clause_heading(ui: dict, programme: str, clause: str, lang: str) -> str:
    """000 §15 費用固有③ -> 000 §15【事故に関する各種対応費用の固有部分】③ (the pamphlet's own heading)."""
    for short, heading in (ui.get("clause_headings", {}).get(programme) or {}).items():
        if short in clause:
            return clause.replace(short, heading[lang], 1)
    return clause


def _accepted(path: str) -> tuple[str, list[str]]:
    """What a claim-file field accepts: ('date'|'int'|'bool'|'one'|'list'|'text', values)."""
    model: Any = Claim
    ann: Any = None
    for part in path.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return "text", []
        ann = fields[part].annotation
        model = _unwrap(ann)
    return _kind_of(ann)


def _unwrap(ann: Any) -> Any:
    for arg in typing.get_args(ann) or ():
        if isinstance(arg, type) and hasattr(arg, "model_fields"):
            return arg
    return ann


def _kind_of(ann: Any) -> tuple[str, list[str]]:
    args = [a for a in typing.get_args(ann) if a is not type(None)] if typing.get_origin(ann) is typing.Union else [ann]
    a = args[0] if args else ann
    origin = typing.get_origin(a)
    if origin is list:
        inner = typing.get_args(a)[0]
        return "list", list(typing.get_args(inner)) if typing.get_origin(inner) is typing.Literal else []
    if origin is typing.Literal:
        return "one", list(typing.get_args(a))
    if origin is typing.Annotated:
        base = typing.get_args(a)[0]
        if typing.get_origin(base) in (list, typing.Literal):  # a bounded list (Field(max_length=...))
            return _kind_of(base)
        if base is dt.date:
            return "date", []
        if base is str or typing.get_origin(base) is typing.Annotated:  # Identifier, Text: bounded strings
            return "text", []
        return ("bool", []) if base is bool or "Bool" in getattr(base, "__name__", "") else ("int", [])
    if a is dt.date:
        return "date", []
    return "text", []


def build_view(decision: dict, lang: str, book: Rulebook, catalogue: Catalogue, claim: Claim | None,
               audit: bool, handler: str | None = None, decided_on: str | None = None,
               ledger: dict | None = None) -> dict[str, Any]:
    cx = DocumentContext(decision, lang, book, catalogue, claim, audit)
    ui, prog, pid = cx.ui, cx.prog, cx.pid
    support = not prog.plans  # jma-support: fixed support payments, not insurance
    needs_any = bool(decision["needs_information"])

    # lines: which coverage each went to, what it claimed and paid
    lines_by_cov: dict[str, list[dict]] = {}
    for ln in decision["lines"]:
        if ln["coverage"]:
            lines_by_cov.setdefault(ln["coverage"], []).append(ln)

    # a per-accident deductible is shown as its own row of the coverage (004 §6), so each line shows
    # the amount before it, as the seed's table does
    deductible_rows: dict[str, dict] = {}
    for cov, entry in decision["coverages"].items():
        for s in entry["steps"]:
            if s["step"] == "deductible" and s.get("cut", 0) > 0:
                deductible_rows[cov] = s

    any_support_paid = support and any(e["status"] == "covered" for e in decision["coverages"].values())
    coverages, refusals = [], []
    for cov, entry in decision["coverages"].items():
        claimed = lines_by_cov.get(cov, [])
        reasons = [cx.reason_view(r) for r in entry["reasons"]]
        status = entry["status"]
        if support and (status == "covered" or not any_support_paid):
            status_label = cx.t("support_statuses", status)
            considered = True
        elif claimed:
            status_label = cx.t("statuses", status)
            considered = True
        else:  # nobody claimed under it: not a decision
            special = [_pick(ui, "unclaimed_by_rule", r["rule"], lang) for r in entry["reasons"]]
            special = [s for s in special if s]
            status_label = special[0] if special else cx.t("unclaimed", "covered" if status == "covered" else "other")
            considered = False
        # the limit steps of a coverage take the size of the limit from its lines' steps
        hints: dict[str, dict] = {}
        for ln in claimed:
            for s in ln.get("steps", []):
                hints.setdefault(s["step"], {k: v for k, v in s.items() if k in ("cap", "limit", "pool", "prior_payments", "cap_id")})
        steps = [cx.step_view(s, cov, hints.get(s["step"])) for s in entry["steps"]]
        coverages.append({
            "id": cov, "label": entry["label"][lang], "status": status, "status_label": status_label,
            "payable": entry["payable"], "considered": considered, "held": status == "needs_information" and considered,
            "reasons": reasons if (considered or audit) else [],
            "steps": steps, "claimed": sum(ln["claimed"] for ln in claimed),
            "deductible": cx.step_view(deductible_rows[cov], cov) if cov in deductible_rows else None,
        })
        if considered and status in ("not_covered", "excluded") and (claimed or support):
            refusals += [r for r in reasons if r["effect"] in ("not_cover", "exclude", "default")]

    lines = []
    held_total = 0
    for ln in decision["lines"]:
        why = ln.get("refused")
        steps_src = ln["steps"]
        held = any(s["step"] == "coverage_not_payable" and s.get("status") == "needs_information" for s in steps_src)
        taken = sum(s.get("cut", 0) for s in steps_src if s["step"] == "deductible")
        if ln["coverage"] in deductible_rows and not audit:
            # the line up to the deductible; the deductible and the limits after it are the coverage's rows
            cut_at = next(i for i, s in enumerate(steps_src) if s["step"] == "deductible")
            shown, amount_label = steps_src[:cut_at], "computed"
            shown_paid = steps_src[cut_at - 1]["after"]
        else:
            shown, amount_label, shown_paid = steps_src, "paid", ln["paid"]
        if held:
            held_total += ln["claimed"]
        view_steps = []
        for s in shown:
            v = cx.step_view(s, ln["coverage"])
            if s["step"] == "coverage_not_payable":
                v["name"] = cx.t("held" if held else "coverage_refused", "name")
            view_steps.append(v)
        basis = ln.get("basis")
        refused = cx.reason_view(why) if why and not held else None
        if refused and not any(r["rule"] == refused["rule"] and r["text"] == refused["text"] for r in refusals):
            refusals.append(refused)
        lines.append({
            "index": ln["index"], "number": ln["index"] + 1, "category": cx.t("categories", ln["category"]),
            "category_id": ln["category"], "claimed": ln["claimed"], "paid": ln["paid"], "shown_paid": shown_paid,
            "amount_label": cx.t("line_amounts", "held" if held else amount_label), "held": held,
            "deducted": taken,
            "coverage": prog.coverages[ln["coverage"]]["label"][lang] if ln["coverage"] else "—",
            "coverage_id": ln["coverage"] or "",
            "steps": view_steps,
            "basis": cx.reason_view(dict(basis, effect="map_line")) if basis else None,
            "refused": refused,
        })
    # the refusal section states each reason once
    seen, unique_refusals = set(), []
    for r in refusals:
        key = (r["rule"], r["text"])
        if key not in seen:
            seen.add(key)
            unique_refusals.append(r)

    for i, r in enumerate(unique_refusals, 1):
        r["number"] = i
    numbers = {(r["rule"], r["text"]): r["number"] for r in unique_refusals}
    for c in coverages:
        for r in c["reasons"]:
            r["see"] = numbers.get((r["rule"], r["text"]))
    for ln in lines:
        if ln["refused"]:
            ln["refused"]["see"] = numbers.get((ln["refused"]["rule"], ln["refused"]["text"]))

    cuts = [dict(cx.step_view(c, None), cap=c.get("cap")) for c in decision["limits_applied"]]
    # limits_applied holds the shared caps only; a coverage's own limits cut too (a sublimit, a per-person
    # cap, a support payment's maximum), so the section lists them (round-4 check: "no limit cut anything"
    # was printed under a per-person cap)
    for cov, c in decision["coverages"].items():
        for st in c["steps"]:
            if st["step"] == "sublimit" and st.get("cut", 0) > 0:
                cuts.append(dict(cx.step_view(st, cov), cap=st.get("cap")))
            elif st["step"] == "closure_payment" and st["days"] * st["per_day"] > st["amount"]:
                full = st["days"] * st["per_day"]
                cuts.append(dict(cx.step_view(st, cov), before=full, after=st["amount"], cut=full - st["amount"],
                                 cap=st["max"]))
    for ln in decision["lines"]:
        for st in ln.get("steps", []):
            if st["step"] == "per_person_cap" and st.get("cut", 0) > 0:
                cuts.append(dict(cx.step_view(st, ln["coverage"]), cap=st.get("cap")))
    needs = []
    fields = book.labels.get("fields", {})
    for n in decision["needs_information"]:
        kind, values = _accepted(n["field"])
        on_hold = sum(ln["claimed"] for c in n["coverages"] for ln in lines_by_cov.get(c, []))
        # the field and its values by the labels the desk uses (rules/desk.yaml), with the claim file's codes
        path = re.sub(r"\[\d*\]", "", n["field"])
        flabel = field_label(fields, path, lang)
        at = re.match(r"losses\[(\d+)\]", n["field"])
        if at and int(at.group(1)) < len(decision["lines"]):
            i = int(at.group(1))
            cat = cx.t("categories", decision["lines"][i]["category"])
            flabel = f"{cx.t('values', 'line')} #{i + 1}（{cat}）の{flabel}" if lang == "ja" else \
                f"{cx.t('values', 'line')} #{i + 1} ({cat}): {flabel}"
        sep = "、" if lang == "ja" else ", "
        shown = sep.join((f"{_choice_label(cx, path, v)}（{v}）" if lang == "ja" else f"{_choice_label(cx, path, v)} ({v})")
                         for v in values)
        accepts = (f"{cx.t('accepts', 'list')}: {shown}" if kind == "list" else shown) if values else cx.t("accepts", kind)
        needs.append({"field": n["field"], "field_label": flabel,
                      "why": n["why"] if lang == "ja" else n["why_en"], "rules": n["rules"],
                      "accepts": accepts, "on_hold": on_hold,
                      "coverages": [prog.coverages[c]["label"][lang] for c in n["coverages"]]})
    refusal_only = decision["total_payable"] == 0 and not needs_any
    duties = [{"id": d["id"], "clause": d["clause"], "text": book.duties[d["id"]][lang]} for d in decision["duties"]
              if not (refusal_only and d["id"].endswith("_documents_payment"))]
    notes = [cx.reason_view(n) for n in decision["notes"]]
    # what the plan covers (e.g. the leak-only plan, 000 §9/§10) explains its unclaimed rows: a note of the
    # policyholder's document too, stated once
    for entry in decision["coverages"].values():
        for r in entry["reasons"]:
            if r.get("rule") in ui.get("plan_scope_rules", []) and not any(n["rule"] == r["rule"] for n in notes):
                notes.append(cx.reason_view(r))

    prior = decision["prior_payments"]
    source = prior.get("source", "none")
    prior_amounts = {k: v for k, v in prior.items() if k not in ("source", "records")}
    prior_rows = [{"label": cx.t("prior_keys", k), "amount": v} for k, v in prior_amounts.items() if v]
    earlier = []
    for rec in (ledger or {}).get("prior_records", []) if ledger else []:
        earlier.append(rec)

    # dates the decision turns on
    inc = claim.incident if claim is not None else None
    pol = claim.policy if claim is not None else None
    start = prog.period_start
    cover_start = prog.cover_start(pol.enrolled_on) if pol is not None else start
    end = prog.period_end
    dates = []
    if inc is not None:
        dates += [(cx.t("dates", "occurred_on_support" if support else "occurred_on"), str(inc.occurred_on)), (cx.t("dates", "discovered_on"), str(inc.discovered_on))]
        if not support:
            dates.append((cx.t("dates", "claim_made_on"), str(inc.claim_made_on) if inc.claim_made_on else "—"))
    period = f"{start} – {end}" if end else f"{start} –"
    if not support:
        dates.append((cx.t("dates", "period"), period))
        if cover_start != start:
            dates.append((cx.t("dates", "mid_term_start"), f"{cover_start} ({cx.t('dates', 'enrolled_on')} {pol.enrolled_on})"))
        if pol is not None and pol.retroactive_date:
            dates.append((cx.t("dates", "retroactive_date"), str(pol.retroactive_date)))
    else:
        dates.append((cx.t("dates", "scheme_from"), period))

    plan = decision["plan"]
    plan_label = ""
    if plan and prog.plans:
        kind = prog.plans[plan]["kind"]
        plan_label = f"{plan}（{prog.data['plan_kinds'][kind][lang]}）" if lang == "ja" else \
            f"{plan} ({prog.data['plan_kinds'][kind][lang]})"
    contacts = _pick(ui, "contacts", pid, lang) or ""
    recourse = _pick(ui, "recourse", pid, lang) or ""

    why_words = _localised(ui["why_not"], lang)
    for c in coverages:
        c["why_not"] = _why_not_view(decision["coverages"][c["id"]].get("why_not"), cx, why_words)
        if c["why_not"] and not audit and not (c["why_not"]["supply"] or c["why_not"]["limits"]):
            c["why_not"] = None  # only what the facts would have to be: for the auditor (issue 20 item 2)
    for ln in lines:
        src = decision["lines"][ln["index"]]
        ln["why_not"] = _why_not_view(src.get("why_not"), cx, why_words) if src["coverage"] is None else None
        if ln["why_not"] and not audit and not ln["why_not"]["supply"]:
            ln["why_not"] = None
    unclaimed = _unclaimed_view(decision.get("unclaimed_benefits", []), cx, catalogue)
    for u in unclaimed:  # a fixed-benefit programme's amount is set by its own terms, not by losses claimed
        u["amount_unknown"] = cx.t("unclaimed_benefits", "amount_fixed") if u.pop("fixed") else \
            cx.t("unclaimed_benefits", "amount_unknown")

    doc = "support" if support else "insurance"
    view: dict[str, Any] = {
        "unclaimed": unclaimed, "why_words": why_words,
        "unclaimed_words": _localised(ui["unclaimed_benefits"], lang),
        "why_not_any": any(c["why_not"] for c in coverages) or any(ln["why_not"] for ln in lines),
        "lang": lang, "ui": _localised(ui, lang),
        "doc": {k: v[lang] for k, v in ui["documents"][doc].items()},
        "support": support, "decision": decision, "programme_label": prog.label[lang],
        "insurer": prog.data.get("insurer", {}).get(lang, ""),
        "plan_label": plan_label,
        "facility_label": (_pick(ui, "facilities_by_programme", pid, decision["facility"], lang)
                           or cx.t("facilities", decision["facility"])) if decision["facility"] else "—",
        "policy_number": (pol.policy_number if pol is not None and pol.policy_number else "—"),
        "insured": (getattr(pol, "insured_name", None) if pol is not None else None) or "—",
        "handler": handler or "—", "decided_on": decided_on or "—",
        "dates": dates, "provisional": needs_any,
        "coverages": coverages, "lines": lines, "cuts": cuts, "needs": needs, "duties": duties, "notes": notes,
        "refusals": unique_refusals if (decision["total_payable"] == 0 or any(c["status"] in ("not_covered", "excluded") and c["considered"] for c in coverages) or any(l["refused"] for l in lines)) else [],
        "held_total": held_total,
        "prior_rows": prior_rows,
        # the JMA scheme pays support, not insurance: 既に支給した一時支援金
        "prior_source": cx.t("prior_sources_support" if support else "prior_sources", source),
        "prior_source_label": cx.t(None, "prior_source_support" if support else "prior_source"),
        # brackets around a running total: full-width in Japanese, ASCII in English
        "lp": "（" if lang == "ja" else " (", "rp": "）" if lang == "ja" else ")",
        "prior_records": (ledger or {}).get("prior_records", []),
        "contacts": contacts, "recourse": recourse,
        "audit": audit,
    }
    if audit:
        trace = sorted(decision["trace"], key=lambda t: (
            _STAGES.index(t["effect"]) if t["effect"] in _STAGES else len(_STAGES),
            t.get("facts", {}).get("line.index", -1), t["rule"]))
        view["trace"] = [dict(t, effect_label=cx.t("effects", t["effect"]),
                              targets_label=", ".join(_target_label(cx, t["effect"], x) for x in t["targets"]),
                              facts_text=", ".join(_fact_text(cx, k, v) for k, v in (t.get("facts") or {}).items())
                              or t.get("fired_on", ""))
                         for t in trace]
        given = (ledger or {}).get("given")
        if given is not None:  # plain mappings and text, whatever mapping type the caller holds
            given = json.loads(json.dumps(given, ensure_ascii=False, default=str))
        elif claim is not None:
            given = json.loads(claim.model_dump_json(exclude_none=True))
        view["input_yaml"] = yaml.safe_dump(given, allow_unicode=True, sort_keys=False) if given is not None else ""
        view["ledger"] = {"prior_records": [], "header": "", **(ledger or {})}
        view["decision_json"] = json.dumps(decision, ensure_ascii=False, indent=2)
        view["input_fence"] = md_fence(view["input_yaml"])
    return view


def _field_label(cx: "DocumentContext", path: str) -> str:
    """The claim-file contract's field label (rules/desk.yaml, the desk's own, read with the rulebook)."""
    return field_label(cx.book.labels.get("fields", {}), path, cx.lang)


def _choice_label(cx: "DocumentContext", path: str, value: Any) -> str:
    if not isinstance(value, str) or path.startswith("incident.evidence_dates") or path.endswith("_on"):
        return _value_text(value, cx.ui, cx.lang)
    if path == "policy.facility":  # the programme's own name for it (Nagano 2016 knows no 介護医療院)
        named = _pick(cx.ui, "facilities_by_programme", cx.pid, value, cx.lang)
        if named:
            return named
    choices = cx.book.labels.get("choices", {})
    group = choices.get(path) or choices.get(path.rsplit(".", 1)[0]) or {}
    if value in group:
        return group[value][cx.lang]
    return _pick(cx.ui, "categories", value, cx.lang) or _pick(cx.ui, "facilities", value, cx.lang) or value


def change_text(cx: "DocumentContext", change: dict) -> str:
    """One suggested change as a sentence: 「届出・報告に「日本医師会」を追加」 / "Reports made: add JMA"."""
    field = _field_label(cx, change["field"])
    value = _choice_label(cx, change["field"], change["value"])
    if cx.lang == "ja":
        return {"add": f"{field}に「{value}」を追加", "remove": f"{field}から「{value}」を除く"}.get(
            change["op"], f"{field}を「{value}」とする")
    return {"add": f"{field}: add {value}", "remove": f"{field}: without {value}"}.get(
        change["op"], f"{field}: {value}")


def _suggestions_view(items: list[dict], cx: "DocumentContext", words: dict) -> list[dict]:
    return [{"text": ("、" if cx.lang == "ja" else "; ").join(change_text(cx, ch) for ch in it["changes"]),
             "kinds": ", ".join(dict.fromkeys(words["kinds"].get(ch["supplied"], "") for ch in it["changes"]
                                              if ch.get("supplied"))),
             "pays": it["pays"]} for it in items]


def _why_not_view(entry: dict | None, cx: "DocumentContext", words: dict) -> dict | None:
    if not entry:
        return None
    decided = [cx.clause_heading(d["clause"]) if d.get("clause") else "" for d in entry["decided_by"]]
    return {"decided_by": ", ".join(dict.fromkeys(d for d in decided if d)),
            "limits": bool(entry.get("policy_limits")),
            "supply": _suggestions_view(entry["claimant_can_supply"], cx, words),
            "facts": _suggestions_view(entry["facts_would_have_to_be"], cx, words),
            "incomplete": entry.get("search", {}).get("complete") is False}


def _unclaimed_view(entries: list[dict], cx: "DocumentContext", catalogue: Catalogue) -> list[dict]:
    out = []
    words = cx.ui["unclaimed_benefits"]
    for e in entries:
        needs = []
        for n in e["needs"]:
            kind = _pick(cx.ui, "why_not", "kinds", n["kind"], cx.lang) or n["kind"]
            if n.get("change"):
                text = change_text(cx, n["change"])
            elif n.get("text"):
                text = n["text"] if cx.lang == "ja" else n["text_en"]
            else:
                text = _field_label(cx, n["field"] or "")
            head = words["needs"][cx.lang]
            needs.append({"kind": kind, "text": text,
                          "head": f"{head}（{kind}）" if cx.lang == "ja" else f"{head} ({kind})"})
        out.append({"programme": catalogue[e["programme"]].label[cx.lang], "label": e["label"][cx.lang],
                    "fixed": not catalogue[e["programme"]].plans,
                    "status": words["status"][e["status"]][cx.lang], "clause": cx.clause_heading(e["clause"]),
                    "amount": e["amount"], "needs": needs})
    return out


def _localised(node: Any, lang: str) -> Any:
    """The ui tree in one language: every {ja, en} leaf becomes its text."""
    if isinstance(node, dict):
        if lang in node and isinstance(node[lang], str):
            return node[lang]
        return {k: _localised(v, lang) for k, v in node.items()}
    return node


def _target_label(cx: DocumentContext, effect: str, target: str) -> str:
    if effect == "duty":
        return cx.t("duty_names", target) if target in cx.ui.get("duty_names", {}) else target
    if effect == "need":
        return target
    cov = cx.prog.coverages.get(target)
    return cov["label"][cx.lang] if cov else target


def _fact_text(cx: DocumentContext, key: str, value: Any) -> str:
    if key == "line.index" and isinstance(value, int):
        return f"{cx.t('values', 'line')} #{value + 1}"
    if key == "line.category" and isinstance(value, str):
        return f"{key}={cx.t('categories', value)}"
    return f"{key}={_value_text(value, cx.ui, cx.lang)}"


def render(decision: dict, fmt: str = "text", lang: str = "ja", audit: bool = False, claim: Claim | None = None,
           book: Rulebook | None = None, catalogue: Catalogue | None = None, handler: str | None = None,
           decided_on: str | None = None, ledger: dict | None = None, draft: bool = False) -> str:
    """handler: who decided (service account or user); decided_on: the decision date (ISO);
    draft: the decision waits for its second review (issue 20): the document says 案 / draft and is no
    payment notice;
    ledger: for the audit view of a recorded claim: {"header": ..., "given": the claim file as given,
    "prior_records": [{"seq", "claim_id", "amounts"}]}."""
    from ..engine.rulebook import load_rulebook
    from ..policy.catalogue import load_catalogue

    book = book or load_rulebook()
    catalogue = catalogue or load_catalogue()
    if fmt not in _TEMPLATES:
        raise ValueError(f"format must be one of {', '.join(_TEMPLATES)}")
    if lang not in ("ja", "en"):
        raise ValueError("lang must be ja or en")
    env = _env(fmt, lang)
    view = build_view(decision, lang, book, catalogue, claim, audit, handler, decided_on, ledger)
    view["draft"] = draft
    return env.get_template(_TEMPLATES[fmt]).render(**view)
