"""How input errors are worded: one plain sentence per bad field, in English or Japanese.

`pydantic_message` turns a pydantic error into the project's own words (no "Value error, ...",
no "Input should be ...", the value shown once); `yaml_message` makes a YAML syntax error one line
with its line and column; `japanese` renders any message the contract, the catalogue checks or the
ledger write (see the patterns below) in Japanese, keeping field paths, values and codes as typed.
"""
from __future__ import annotations

import datetime as dt
import re


def _shown(value: object) -> str | None:
    """A bad value as the claim file writes it (2025-01-01, true, null), never a Python repr."""
    if isinstance(value, (dict, list)):
        return None
    if isinstance(value, (dt.date, dt.time)):  # a datetime is a date
        text = value.isoformat()
    elif isinstance(value, bool) or value is None:
        text = {True: "true", False: "false", None: "null"}[value]
    else:
        text = repr(value)
    return text if len(text) <= 60 else None


def _read_as(value: object) -> str | None:
    """What an unquoted YAML scalar became instead of text (a policy number 0012345, a date-like id)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dt.datetime):
        return "a date-time"
    if isinstance(value, dt.date):
        return "a date"
    return None


def pydantic_message(err: dict) -> str:
    kind, msg, ctx = err["type"], err["msg"], err.get("ctx") or {}
    got = _shown(err.get("input")) if "input" in err else None
    if kind == "extra_forbidden":
        return "unknown field (not in the claim-file contract)"
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        out = f"expected one of {', '.join(expected)}" if expected else "not an accepted value"
    elif kind == "value_error":
        out = str(ctx.get("error", msg.removeprefix("Value error, ")))
        if "got " in out:  # the message shows the value already
            return out
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        out = "expected a whole number"
    elif kind in ("bool_type", "bool_parsing"):
        out = "expected true or false"
    elif kind in ("string_type",):
        out = "expected text"
        read_as = _read_as(err.get("input"))
        if read_as is not None and got is not None:  # the YAML reader took it for something else: say how to keep it
            return f"{out} (got {got}, read as {read_as}): write it in quotes to keep it as typed"
    elif kind in ("list_type",):
        out = "expected a list"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        out = "expected a mapping of fields"
    elif kind == "greater_than_equal":
        out = f"must be {ctx.get('ge')} or more"
    elif kind == "greater_than":
        out = f"must be more than {ctx.get('gt')}"
    elif kind == "less_than_equal":
        out = f"must be {ctx.get('le'):,} or less" if isinstance(ctx.get("le"), int) else f"must be {ctx.get('le')} or less"
    elif kind == "string_too_short":
        out = "must not be empty"
    elif kind == "too_long" and isinstance(ctx.get("max_length"), int):  # a bounded list
        actual = ctx.get("actual_length")
        out = f"at most {ctx['max_length']:,} items"
        return out + (f", got {actual:,}" if isinstance(actual, int) else "")
    elif kind == "string_too_long" and isinstance(ctx.get("max_length"), int):
        text = err.get("input")
        out = f"at most {ctx['max_length']:,} characters"
        return out + (f", got {len(text):,}" if isinstance(text, str) else "")
    else:
        out = msg
    return f"{out} (got {got})" if got is not None else out


def yaml_message(exc: Exception) -> str:
    """One line: `line 3, column 7: mapping values are not allowed here`."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    context = getattr(exc, "context", None)
    return f"{where}{problem}" + (f" ({context})" if context and context not in problem else "")


# English message -> Japanese, by pattern. {0}, {1}: the groups (paths, values, codes kept as typed).
_JA: list[tuple[re.Pattern, str]] = [(re.compile(p), ja) for p, ja in [
    (r"^unknown field \(not in the claim-file contract\)$", "未知の項目です（請求ファイルの仕様にありません）"),
    (r"^required field is missing$", "必須の項目がありません"),
    (r"^expected one of (.+?)(?: \(got (.+)\))?$", "次のいずれかを指定してください: {0}{1?（指定された値: {1}）}"),
    (r"^not an accepted value(?: \(got (.+)\))?$", "受け付けない値です{0?（指定された値: {0}）}"),
    (r"^expected a date YYYY-MM-DD, not a date-time(?: \(got (.+)\))?$", "日付（YYYY-MM-DD）で指定してください。日時は指定できません{0?（指定された値: {0}）}"),
    (r"^expected a date YYYY-MM-DD, got (.+)$", "日付（YYYY-MM-DD）で指定してください（指定された値: {0}）"),
    (r"^expected a date YYYY-MM-DD(?: \(got (.+)\))?$", "日付（YYYY-MM-DD）で指定してください{0?（指定された値: {0}）}"),
    (r"^expected a whole number(?: \(got (.+)\))?$", "整数で指定してください{0?（指定された値: {0}）}"),
    (r"^expected true or false(?: \(got (.+)\))?$", "true または false で指定してください{0?（指定された値: {0}）}"),
    (r"^expected text \(got (.+), read as .+\): write it in quotes to keep it as typed$",
     "文字列で指定してください。値を引用符（\"…\"）で囲むと書いたとおりに読まれます（指定された値: {0}）"),
    (r"^expected text(?: \(got (.+)\))?$", "文字列で指定してください{0?（指定された値: {0}）}"),
    (r"^expected a list(?: \(got (.+)\))?$", "リストで指定してください{0?（指定された値: {0}）}"),
    (r"^expected a mapping of fields(?: \(got (.+)\))?$", "項目の対応表（マッピング）で指定してください{0?（指定された値: {0}）}"),
    (r"^expected a mapping of fields at the top level$", "ファイルの最上位は項目の対応表（マッピング）にしてください"),
    (r"^must be (\S+) or more(?: \(got (.+)\))?$", "{0}以上で指定してください{1?（指定された値: {1}）}"),
    (r"^must be more than (\S+)(?: \(got (.+)\))?$", "{0}より大きい値で指定してください{1?（指定された値: {1}）}"),
    (r"^must be (\S+) or less(?: \(got (.+)\))?$", "{0}以下で指定してください{1?（指定された値: {1}）}"),
    (r"^must not be empty(?: \(got (.+)\))?$", "空にはできません"),
    (r"^at most (\S+) items(?:, got (\S+))?$", "{0}件以下にしてください{1?（指定された件数: {1}）}"),
    (r"^at most (\S+) characters(?:, got (\S+))?$", "{0}文字以下にしてください{1?（指定された文字数: {1}）}"),
    (r"^text of (\S+) characters; at most (\S+)$", "{1}文字以下にしてください（指定された文字数: {0}）"),
    (r"^cannot be before (\S+) \((.+)\)$", "{0} より前の日付にはできません（{1}）"),
    (r"^not valid (JSON|YAML): (?:line (\d+), column (\d+): )?(.+)$", "{0} として読めません{1?（{1}行目 {2}文字目）}: {3}"),
    (r"^cannot read (.+?): (.+)$", "ファイルを読めません: {0}（{1}）"),
    (r"^duplicate key (.+)$", "キーが重複しています: {0}"),
    (r"^required for (\S+): one of (.+)$", "{0} では必須です。次のいずれかを指定してください: {1}"),
    (r"^(.+) is not a plan of (\S+); expected one of (.+)$", "{0} は {1} の加入タイプではありません。次のいずれかを指定してください: {2}"),
    (r"^(\S+) has no plans; leave policy.plan out \(or write none\)$", "{0} には加入タイプがありません。policy.plan を省略するか none と書いてください"),
    (r"^expected a path or a dict, got (.+)$", "ファイルのパスか対応表で指定してください（指定された型: {0}）"),
    (r"^(.+) is already recorded \(seq (\d+)\); (.+)$", "{0} は台帳に記録済みです（記録 #{1}）。再判定する場合は --readjudicate を指定してください"),
    (r"^a claim needs an id to be recorded in the ledger$", "台帳に記録するには claim_id が必要です"),
]]
_OPTIONAL = re.compile(r"\{(\d)\?([^{}]*(?:\{\d\}[^{}]*)*)\}")


def japanese(message: str) -> str:
    """The Japanese wording of an input error; a message this table does not know stays as it is."""
    for pattern, template in _JA:
        m = pattern.match(message)
        if m:
            groups = [g or "" for g in m.groups()]
            out = _OPTIONAL.sub(lambda o: o.group(2) if groups[int(o.group(1))] else "", template)
            return out.format(*groups)
    return message


def word(message: str, lang: str) -> str:
    return japanese(message) if lang == "ja" else message


