"""The new-claim form, derived from the claim-file contract (contract/claim.py), not written field by
field: each pydantic field becomes a widget by its type (enumerations become labelled choices, dates
date inputs, counts and yen whole-number inputs, nested models fieldsets, loss lines repeated rows).

Form field names are the claim file's field paths (`incident.leak.status`, `losses[2].amount`), so a
problem the contract reports lands beside the widget it names. An empty widget means "not told":
the key is left out of the claim file and the engine asks for it if the decision needs it.
"""
from __future__ import annotations

import datetime as dt
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from ...contract.claim import Claim
from ...contract.wording import japanese

NONE_TICK = "__none__"  # the "none of these (confirmed)" tick of an optional list: []


@dataclass
class Node:
    path: str                       # dotted, without indexes: losses.amount
    name: str                       # the field's own name
    kind: str                       # select | multi | date | int | bool | text | group | rows
    optional: bool = True           # may be left out ("not told")
    choices: list[str] = field(default_factory=list)
    default: Any = None
    children: list["Node"] = field(default_factory=list)


def _strip(tp: Any) -> tuple[Any, bool]:
    """The type inside Optional[...] and Annotated[...]; whether None is allowed."""
    optional = False
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(tp))
            tp = args[0]
        else:
            return tp, optional


def _node(path: str, name: str, annotation: Any, required: bool, default: Any) -> Node:
    tp, optional = _strip(annotation)
    origin = typing.get_origin(tp)
    opt = optional or not required
    if origin is list:
        inner, _ = _strip(typing.get_args(tp)[0])
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return Node(path, name, "rows", opt, children=_children(inner, path))
        return Node(path, name, "multi", optional, choices=list(typing.get_args(inner)), default=default)
    if origin is Literal:
        return Node(path, name, "select", opt and default is None, choices=list(typing.get_args(tp)),
                    default=default)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return Node(path, name, "group", optional, children=_children(tp, path))
    if tp is dt.date:
        return Node(path, name, "date", opt)
    if tp is bool:
        return Node(path, name, "bool", opt)
    if tp is int:
        return Node(path, name, "int", opt, default=default)
    return Node(path, name, "text", opt)


def _children(model: type[BaseModel], prefix: str) -> list[Node]:
    out = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            default = None
        out.append(_node(path, name, info.annotation, info.is_required(), default))
    return out


# The whole claim file as a tree of widgets; `policy.plan` is a plain string in the contract and
# gets its choices from the plan catalogue (per programme) at render time.
FORM: list[Node] = _children(Claim, "")
INDEX: dict[str, Node] = {}


def _index(nodes: list[Node]) -> None:
    for n in nodes:
        INDEX[n.path] = n
        _index(n.children)


_index(FORM)


def node_for(field_path: str) -> Node | None:
    """The widget of a field path as the engine names it (`losses[0].persons` -> losses.persons)."""
    return INDEX.get(re.sub(r"\[\d+\]", "", field_path))


# ------------------------------------------------------------------ claim dict <-> form values
def values_from_claim(claim: dict) -> dict[str, Any]:
    """Form values (str or list of str) keyed by field path, from a claim file's dict."""
    values: dict[str, Any] = {}

    def walk(nodes: list[Node], data: Any, prefix: str) -> None:
        if not isinstance(data, dict):
            return
        for n in nodes:
            key = f"{prefix}{n.name}"
            if n.name not in data:
                continue
            v = data[n.name]
            if n.kind == "group":
                walk(n.children, v, key + ".")
            elif n.kind == "rows":
                for i, row in enumerate(v if isinstance(v, list) else []):
                    walk(n.children, row, f"{key}[{i}].")
            elif n.kind == "multi":
                items = [str(x) for x in v] if isinstance(v, list) else []
                values[key] = items if items or not n.optional else [NONE_TICK]
            elif n.kind == "bool":
                values[key] = "" if v is None else ("true" if v else "false")
            elif v is not None:
                values[key] = str(v)
    walk(FORM, claim, "")
    return values


# A whole number as typed: ASCII or full-width digits (an IME gives those), commas only as thousands
# separators (1,234,567: "1,5" or "1,50,000" is a typo, not 15 or 150,000), a yen sign
# before or 円 after. Not NFKC: it reads superscripts, circled numbers and mathematical digits as digits,
# and int() takes any script's digits (٣, ৩); nor spaces inside the number ("7 5" is no amount).
_FULL_WIDTH = str.maketrans("０１２３４５６７８９，－￥", "0123456789,-¥")
_WHOLE = re.compile(r"(?:¥\s*)?(-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+))(?:\s*円)?")


def _int(text: str) -> int | None:
    m = _WHOLE.fullmatch(text.translate(_FULL_WIDTH))
    digits = m.group(1).replace(",", "") if m else ""
    if not 0 < len(digits.lstrip("-")) <= 20:
        raise ValueError(text)
    return int(digits)


def claim_from_values(form: dict[str, Any]) -> tuple[dict, dict[str, Any], list[tuple[str, str, str]]]:
    """The claim file's dict from posted form values (str or list of str by field path).

    Returns (claim, values, problems): `values` are the form values renumbered as the claim's loss
    lines are (empty rows dropped), and `problems` (path, code, got) what cannot even be typed
    (a word where a whole number belongs); the contract reports the rest.
    """
    problems: list[tuple[str, str, str]] = []
    values: dict[str, Any] = {}

    def get(key: str) -> Any:
        return form.get(key)

    def build(nodes: list[Node], prefix: str, out_prefix: str) -> dict:
        out: dict[str, Any] = {}
        for n in nodes:
            key, okey = f"{prefix}{n.name}", f"{out_prefix}{n.name}"
            if n.kind == "group":
                sub = build(n.children, key + ".", okey + ".")
                if sub or not n.optional:
                    out[n.name] = sub
            elif n.kind == "rows":
                rows, pattern = [], re.compile(re.escape(key) + r"\[(\d+)\]\.")
                indexes = sorted({int(m.group(1)) for k in form for m in [pattern.match(k)] if m})
                for i in indexes:
                    row = build(n.children, f"{key}[{i}].", f"{okey}[{len(rows)}].")
                    if row:
                        rows.append(row)
                    else:  # an empty row: forget what was kept for it
                        for k in [k for k in values if k.startswith(f"{okey}[{len(rows)}].")]:
                            del values[k]
                if rows or key in form:
                    out[n.name] = rows
            elif n.kind == "multi":
                raw = get(key)
                items = [str(x) for x in (raw if isinstance(raw, list) else [raw] if raw else []) if str(x)]
                if items:
                    values[okey] = items
                chosen = [x for x in items if x != NONE_TICK]
                if chosen:
                    out[n.name] = chosen
                elif NONE_TICK in items:
                    out[n.name] = []
            else:
                raw = get(key)
                text = (raw[-1] if isinstance(raw, list) and raw else raw or "")
                text = str(text).strip()
                if not text:
                    continue
                values[okey] = text
                if n.kind == "int":
                    try:
                        out[n.name] = _int(text)
                    except ValueError:
                        problems.append((okey, "not_int", text))
                elif n.kind == "bool":
                    if text in ("true", "false"):
                        out[n.name] = text == "true"
                    else:
                        problems.append((okey, "not_bool", text))
                else:
                    out[n.name] = text
        return out

    claim = build(FORM, "", "")
    return claim, values, problems


def set_answer(claim: dict, form: dict[str, Any], fields: list[str]) -> tuple[dict, dict, list]:
    """The claim with the answers to the engine's questions (form values named by field path) set in."""
    values = values_from_claim(claim)
    for f in fields:
        for k in [k for k in values if k == f or k.startswith(f + ".") or k.startswith(f + "[")]:
            del values[k]
        for k, v in form.items():
            if k == f or k.startswith(f + ".") or k.startswith(f + "["):
                values[k] = v
    return claim_from_values(values)


# ------------------------------------------------------------------ problems in the page's language
# The contract's sentences (contract/wording.py, as the CLI prints them) in Japanese.
_JA = [
    (r"^required field is missing$", "必須の項目です。"),
    (r"^unknown field", "請求ファイルの項目ではありません。"),
    (r"^expected one of (.+)$", "選択肢から選んでください（{0}）。"),
    (r"^not an accepted value$", "選択肢から選んでください。"),
    (r"^expected a whole number$", "整数を入力してください。"),
    (r"^expected true or false$", "はい・いいえを選んでください。"),
    (r"^expected text$", "文字列を入力してください。"),
    (r"^expected a list$", "一覧で指定してください。"),
    (r"^expected a mapping", "項目の一覧（マッピング）で指定してください。"),
    (r"^must be (\S+) or more$", "{0} 以上にしてください。"),
    (r"^must be more than (\S+)$", "{0} より大きくしてください。"),
    (r"^must be (\S+) or less$", "{0} 以下にしてください。"),
    (r"^must not be empty$", "空にはできません。"),
    (r"^required for ([\w-]+): one of (.+)$", "{0} では必須です（{1} のいずれか）。"),
    (r"^'(.*)' is not a plan of ([\w-]+); expected one of (.+)$", "「{0}」は {1} の加入タイプではありません（{2} のいずれか）。"),
    (r"^([\w-]+) has no plans", "{0} には加入タイプがありません。空欄にしてください。"),
    (r"^cannot be before incident\.occurred_on", "事故発生日より前の日付にはできません。"),
    (r"^expected a date YYYY-MM-DD", "日付（YYYY-MM-DD）を入力してください。"),
    (r"^not valid (JSON|YAML)", "{0} として読めません。"),
    (r"^duplicate key '(.*)'", "キー「{0}」が重複しています。"),
]
_LOCAL = {"not_int": {"ja": "整数（円・人数・日数）を入力してください（「{got}」は数字ではありません）。",
                      "en": "expected a whole number (yen, persons, days); got {got!r}"},
          "not_bool": {"ja": "はい・いいえを選んでください。", "en": "expected yes or no"}}


def local_message(code: str, got: str, lang: str) -> str:
    return _LOCAL[code][lang].format(got=got)


def message(text: str, lang: str) -> str:
    """A contract problem (English, as the CLI prints it) in the page's language: the contract's own
    Japanese wording (contract/wording.py, as `--lang ja` prints it), else the desk's table below."""
    if lang == "en":
        return text
    ja = japanese(text)
    if ja != text:
        return ja
    m = re.match(r"^(.*?) \(got (.*)\)$", text, re.S)
    core, got = (m.group(1), m.group(2)) if m else (text, None)
    for pattern, ja in _JA:
        hit = re.match(pattern, core)
        if hit:
            out = ja.format(*hit.groups())
            if pattern.startswith("^not valid"):
                out += f"（{core.split(': ', 1)[-1]}）" if ": " in core else ""
            return out + (f"（入力: {got}）" if got is not None else "")
    return f"内容を確認してください（{text}）"
