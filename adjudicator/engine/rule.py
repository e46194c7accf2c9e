"""One rule of the rulebook as a typed model: id, clause, ja/en text, the seed's wording, conditions,
what it requires, one effect and its fire/silent examples (the language is in rules/README.md)."""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    # A refusal or exclusion applies on a fact the claim file gives; one that fires on an absent field
    # must say why that absence is itself the fact (e.g. the certificate carries no option): `rules check`.
    absence_is_fact: Optional[Text] = None
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
