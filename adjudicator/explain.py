"""Render a decision as a document people read: text, Markdown or self-contained HTML, ja or en.

The view built here only *looks up* words: rule titles, texts and seed wording come from the
rulebook, labels from rules/messages.yaml (`ui`), amounts and clauses from the decision itself.
Templates in reports/ decide layout only.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jinja2
import yaml

from .catalogue import Catalogue
from .claim import Claim
from .rulebook import Rulebook

DEFAULT_REPORTS_DIR = Path(__file__).resolve().parent.parent / "reports"
_TEMPLATES = {"text": "decision.txt.j2", "md": "decision.md.j2", "html": "decision.html.j2"}


def yen(amount: int, lang: str) -> str:
    """1,234,567円 in Japanese, ¥1,234,567 in English."""
    if not isinstance(amount, int):
        return str(amount)
    return f"{amount:,}円" if lang == "ja" else f"¥{amount:,}"


_envs: dict[tuple[str, str, str], jinja2.Environment] = {}


def _env(fmt: str, lang: str) -> jinja2.Environment:
    """One compiled environment per (templates folder, format, language), reused."""
    root = Path(os.environ.get("ADJUDICATOR_REPORTS", DEFAULT_REPORTS_DIR))
    key = (str(root), fmt, lang)
    if key in _envs:
        return _envs[key]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root)), undefined=jinja2.StrictUndefined,
                             autoescape=(fmt == "html"), trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["yen"] = lambda n: yen(n, lang)
    _envs[key] = env
    return env


def _label(ui: dict, group: str | None, key: str, lang: str) -> str:
    node = ui[group] if group else ui
    entry = node.get(key)
    return entry[lang] if entry else key


def _step_view(step: dict, ui: dict, lang: str) -> dict:
    detail = {k: v for k, v in step.items()
              if k not in ("step", "before", "after", "cut", "clause", "label", "reading")}
    label = step.get("label")
    return {
        "name": _label(ui, "steps", step["step"], lang),
        "label": label[lang] if isinstance(label, dict) else "",
        "before": step.get("before"), "after": step.get("after"), "cut": step.get("cut", 0),
        "clause": step.get("clause", ""),
        "reading": step["reading"][lang] if isinstance(step.get("reading"), dict) else "",
        "detail": ", ".join(f"{_label(ui, 'details', k, lang)}={v:,}" if isinstance(v, int) and not isinstance(v, bool)
                            else f"{_label(ui, 'details', k, lang)}={v}"
                            for k, v in detail.items() if k not in ("pool", "cap_id") or lang == "en"),
    }


def _reason_view(reason: dict, book_rules: dict, ui: dict, lang: str) -> dict:
    rule = book_rules.get(reason.get("rule") or "")
    return {
        "rule": reason.get("rule") or "—",
        "clause": reason["clause"],
        "title": (rule.title.ja if lang == "ja" else rule.title.en) if rule else _label(ui, "effects", "default", lang),
        "text": reason["text"] if lang == "ja" else reason["text_en"],
        "wording": rule.wording if rule and rule.wording else "",
        "choice": (rule.choice.ja if lang == "ja" else rule.choice.en) if rule and rule.choice else "",
        "effect": _label(ui, "effects", reason.get("effect") or "default", lang),
    }


def build_view(decision: dict, lang: str, book: Rulebook, catalogue: Catalogue, claim: Claim | None,
               audit: bool) -> dict[str, Any]:
    ui = book.ui
    rules = book.rules_by_id
    prog = catalogue[decision["programme"]]
    cats = ui["categories"]
    coverages = []
    for cov, entry in decision["coverages"].items():
        coverages.append({
            "id": cov, "label": entry["label"][lang], "status": entry["status"],
            "status_label": _label(ui, "statuses", entry["status"], lang), "payable": entry["payable"],
            "reasons": [_reason_view(r, rules, ui, lang) for r in entry["reasons"]],
            "steps": [_step_view(s, ui, lang) for s in entry["steps"]],
        })
    lines = []
    for ln in decision["lines"]:
        why = ln.get("refused")
        lines.append({
            "index": ln["index"], "number": ln["index"] + 1, "category": _label(ui, "categories", ln["category"], lang),
            "category_id": ln["category"], "claimed": ln["claimed"], "paid": ln["paid"],
            "coverage": prog.coverages[ln["coverage"]]["label"][lang] if ln["coverage"] else "—",
            "steps": [_step_view(s, ui, lang) for s in ln["steps"]],
            "basis": _reason_view(dict(ln["basis"], effect="map_line"), rules, ui, lang) if ln.get("basis") else None,
            "refused": _reason_view(why, rules, ui, lang) if why else None,
        })
    cuts = [dict(_step_view(c, ui, lang), cap=c.get("cap")) for c in decision["limits_applied"]]
    needs = [{"field": n["field"], "why": n["why"] if lang == "ja" else n["why_en"], "rules": n["rules"],
              "coverages": [prog.coverages[c]["label"][lang] for c in n["coverages"]]}
             for n in decision["needs_information"]]
    duties = [{"id": d["id"], "clause": d["clause"], "text": book.duties[d["id"]][lang]} for d in decision["duties"]]
    notes = [_reason_view(n, rules, ui, lang) for n in decision["notes"]]
    view: dict[str, Any] = {
        "lang": lang, "ui": {k: v[lang] for k, v in ui.items() if isinstance(v, dict) and lang in v},
        "decision": decision, "programme_label": prog.label[lang],
        "facility_label": _label(ui, "facilities", decision["facility"], lang) if decision["facility"] else "—",
        "coverages": coverages, "lines": lines, "cuts": cuts, "needs": needs, "duties": duties, "notes": notes,
        "prior": {k: v for k, v in decision["prior_payments"].items() if k != "source"},
        "prior_source": decision["prior_payments"].get("source", ""),
        "audit": audit, "categories": cats,
    }
    if audit:
        view["trace"] = [dict(t, effect_label=_label(ui, "effects", t["effect"], lang)) for t in decision["trace"]]
        view["input_yaml"] = yaml.safe_dump(json.loads(claim.model_dump_json(exclude_none=True)), allow_unicode=True,
                                            sort_keys=False) if claim is not None else ""
        view["decision_json"] = json.dumps(decision, ensure_ascii=False, indent=2)
    return view


def render(decision: dict, fmt: str = "text", lang: str = "ja", audit: bool = False, claim: Claim | None = None,
           book: Rulebook | None = None, catalogue: Catalogue | None = None) -> str:
    from .catalogue import load_catalogue
    from .rulebook import load_rulebook

    book = book or load_rulebook()
    catalogue = catalogue or load_catalogue()
    if fmt not in _TEMPLATES:
        raise ValueError(f"format must be one of {', '.join(_TEMPLATES)}")
    if lang not in ("ja", "en"):
        raise ValueError("lang must be ja or en")
    env = _env(fmt, lang)
    return env.get_template(_TEMPLATES[fmt]).render(**build_view(decision, lang, book, catalogue, claim, audit))
