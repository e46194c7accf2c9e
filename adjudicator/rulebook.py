"""The rulebook: rules/rulebook/*.yaml read into typed rules, checked, and fingerprinted.

A rule file holds `programme:` (or `programmes:`) and a list of `rules:`. Each rule has a stable id,
the clause it implements, short ja/en text, the seed's wording, a condition (`when` on the claim,
`line` on a loss line), `requires` (facts it needs: when one is absent the rule answers
needs_information instead), one effect, and `tests` (claim patches that make it fire / stay silent).
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import yamlsafe
from .catalogue import load_catalogue, rules_dir

EFFECTS = ("cover", "not_cover", "exclude", "need", "map_line", "refuse_line", "duty", "note")
# When several effects touch one coverage, the strongest decides its status.
STATUS_BY_EFFECT = {"exclude": "excluded", "not_cover": "not_covered", "need": "needs_information", "cover": "covered"}
STATUS_PRECEDENCE = ["excluded", "not_covered", "needs_information", "covered"]


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Effect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    coverages: list[str] = []   # groups already expanded per programme at compile time
    target: Optional[str] = None  # map_line coverage, need field, duty id

    @classmethod
    def parse(cls, raw: dict) -> "Effect":
        kinds = [k for k in raw if k in EFFECTS]
        if len(kinds) != 1:
            raise ValueError(f"effect needs exactly one of {EFFECTS}, got {sorted(raw)}")
        kind = kinds[0]
        val = raw[kind]
        extra = {k: v for k, v in raw.items() if k != kind}
        if kind in ("cover", "not_cover", "exclude", "note"):
            covs = [val] if isinstance(val, str) else list(val or [])
            return cls(kind=kind, coverages=covs)
        if kind == "need":
            return cls(kind=kind, target=val, coverages=_as_list(extra.get("coverages", [])))
        if kind == "map_line":
            return cls(kind=kind, target=val, coverages=[val])
        if kind == "duty":
            return cls(kind=kind, target=val, coverages=_as_list(extra.get("coverages", [])))
        return cls(kind=kind)


def _as_list(v: Any) -> list:
    return [v] if isinstance(v, str) else list(v)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]+(:needs:[a-z_.]+)?$")
    clause: str = Field(min_length=3)
    title: Text
    text: Text
    wording: Optional[str] = None
    choice: Optional[Text] = None         # a reading chosen where the seed is silent or ambiguous
    programmes: list[str]
    plans: Optional[list[str]] = None     # plan kinds the rule applies to
    on: Literal["claim", "line"] = "claim"
    when: list[Any] = []
    line: list[Any] = []
    requires: list[str] = []
    effect: Effect
    tests: dict = {}
    source_file: str = ""
    generated_from: Optional[str] = None

    @model_validator(mode="before")
    @classmethod
    def _effect(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("effect"), dict) and "kind" not in data["effect"]:
            data = dict(data, effect=Effect.parse(data["effect"]))
        return data


class Rulebook(BaseModel):
    version: str
    sha256: str
    rules: list[Rule]
    out_of_scope: list[dict] = []
    messages: dict = {}
    duties: dict = {}
    ui: dict = {}
    root: str = ""

    def for_programme(self, programme: str) -> list[Rule]:
        return [r for r in self.rules if programme in r.programmes]

    @functools.cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        """Rule id -> rule (built once per loaded rulebook)."""
        return {r.id: r for r in self.rules}

    @functools.cached_property
    def rule_order(self) -> dict[str, int]:
        """Rule id -> position in the rulebook (which of two line mappings wins)."""
        return {r.id: i for i, r in enumerate(self.rules)}


def _fingerprint(root: Path) -> str:
    """sha256 over every rulebook file (rule files, plan catalogue, messages), path and bytes."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml")):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _expand_requires(rule: Rule) -> list[Rule]:
    """A rule that requires facts gets, per fact, a companion that answers needs_information.

    The main rule only fires when the fact is present. The companion keeps the rule's conditions
    on facts it does not require, asks that the fact be absent, and says which coverages wait for it.
    """
    from .compile import mentions  # local import: compile depends on this module

    out = []
    covs = rule.effect.coverages
    # A companion drops every condition on ANY required fact: when several are missing, each
    # companion must still fire, or the coverage would fall to a silent "not covered".
    def free(c: Any) -> bool:
        return not any(mentions(c, p) for p in rule.requires)

    for path in rule.requires:
        when = [c for c in rule.when if free(c)]
        line = [c for c in rule.line if free(c)]
        cond = {"fact": path, "present": False}
        if path.startswith("line."):
            line = line + [cond]
        else:
            when = when + [cond]
        out.append(Rule(
            id=f"{rule.id}:needs:{path}", clause=rule.clause, title=rule.title,
            text=Text(ja=f"「{rule.title.ja}」（{rule.clause}）を判断するには {path} が必要ですが、請求ファイルにありません。",
                      en=f"{path} is needed to decide \u201c{rule.title.en}\u201d ({rule.clause}) and the claim file lacks it."),
            wording=rule.wording, programmes=rule.programmes, plans=rule.plans, on=rule.on,
            when=when, line=line, effect=Effect(kind="need", target=path, coverages=covs),
            source_file=rule.source_file, generated_from=rule.id))
    if rule.requires:
        rule = rule.model_copy(update={"when": rule.when + [
            {"fact": p, "present": True} for p in rule.requires if not p.startswith("line.")],
            "line": rule.line + [{"fact": p, "present": True} for p in rule.requires if p.startswith("line.")]})
    return [rule] + out


@functools.lru_cache(maxsize=8)
def _load(root: Path) -> Rulebook:
    meta = yamlsafe.load((root / "rulebook.yaml").read_text(encoding="utf-8"))
    rules: list[Rule] = []
    for path in sorted((root / "rulebook").rglob("*.yaml")):
        try:
            doc = yamlsafe.load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RulebookError([f"{path.relative_to(root)}: not valid YAML: {exc}"]) from None
        default_progs = doc.get("programmes") or ([doc["programme"]] if "programme" in doc else [])
        for raw in doc.get("rules", []):
            raw = dict(raw)
            if True in raw:  # YAML 1.1 reads the key `on` as a boolean
                raw["on"] = raw.pop(True)
            raw.setdefault("programmes", default_progs)
            if "plans" not in raw and "plans" in doc:
                raw["plans"] = doc["plans"]
            raw["source_file"] = str(path.relative_to(root))
            try:
                rule = Rule.model_validate(raw)
            except Exception as exc:
                raise RulebookError([f"{path.relative_to(root)}: rule {raw.get('id', '?')}: {exc}"]) from None
            rules.extend(_expand_requires(rule))
    oos = yamlsafe.load((root / "out_of_scope.yaml").read_text(encoding="utf-8")) if (root / "out_of_scope.yaml").exists() else {}
    messages = yamlsafe.load((root / "messages.yaml").read_text(encoding="utf-8")) if (root / "messages.yaml").exists() else {}
    return Rulebook(version=str(meta["version"]), sha256=_fingerprint(root), rules=rules,
                    out_of_scope=(oos or {}).get("items", []), messages=messages.get("messages", {}),
                    duties=messages.get("duties", {}), ui=messages.get("ui", {}), root=str(root))


class RulebookError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def load_rulebook(root: str | os.PathLike | None = None) -> Rulebook:
    return _load(rules_dir(root))


def check_rulebook(root: str | os.PathLike | None = None) -> list[str]:
    """Problems with the rulebook (empty list = fine): ids, clauses, texts, coverages, reachability."""
    from .compile import compile_programme, condition_paths

    problems: list[str] = []
    try:
        book = load_rulebook(root)
    except RulebookError as exc:
        return exc.problems
    catalogue = load_catalogue(root)
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
        try:
            list(condition_paths(rule))  # raises on an unknown fact or operator
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    if not problems:
        for prog in catalogue.programmes:
            try:
                compile_programme(book, catalogue[prog])
            except ValueError as exc:
                problems.append(f"{prog}: {exc}")
        problems.extend(_unreachable(book))
    return problems


def _unreachable(book: Rulebook) -> list[str]:
    """A rule is unreachable when its conditions contradict themselves (e.g. a fact both equal to
    two different values, or required present and absent at once), or it names no programme."""
    from .compile import contradictions

    out = []
    for rule in book.rules:
        if not rule.programmes:
            out.append(f"{rule.source_file}: {rule.id}: applies to no programme (unreachable)")
        for why in contradictions(rule):
            out.append(f"{rule.source_file}: {rule.id}: unreachable: {why}")
    return out
