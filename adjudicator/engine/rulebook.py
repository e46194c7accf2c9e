"""The rulebook: rules/rulebook/*.yaml read into typed rules, fingerprinted, and compiled for every
programme of the catalogue when it is loaded (never from inside a claim's run).

A rule file holds `programme:` (or `programmes:`) and a list of `rules:`. Each rule has a stable id,
the clause it implements, short ja/en text, the seed's wording, a condition (`when` on the claim,
`line` on a loss line), `requires` (facts it needs: when one is absent the rule answers
needs_information instead), one effect, and `tests` (claim patches that make it fire / stay silent).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from ..contract import filecache, yamlsafe
from ..policy.catalogue import Catalogue, load_catalogue, rules_dir
from .compile import compile_rule, condition_paths, line_claim_paths, mentions, rule_paths
from .rule import Effect, Rule, Text


@dataclass(frozen=True)
class CompiledProgramme:
    """What a claim's run needs of the rulebook for one programme, built once at load."""
    definition: dict                          # the durable_rules ruleset: rule id -> compiled rule
    fields: frozenset                         # fact paths the rules read (facts.py sends no others)
    targets: dict[str, list[str]]             # rule id -> coverage ids its effect touches (groups expanded)
    paths: dict[str, tuple[str, ...]]         # rule id -> fact paths its conditions read (for the trace)
    line_claim_keys: tuple = ()               # claim fact keys copied into every line fact (line rules read them)
    claim_readers: frozenset = frozenset()    # line rules whose firing shows claim values (the claim fact is added)


class Rulebook(BaseModel):
    version: str
    sha256: str
    rules: list[Rule]
    out_of_scope: list[dict] = []
    messages: dict = {}
    duties: dict = {}
    ui: dict = {}
    labels: dict = {}               # the claim-file contract's field and value labels (rules/desk.yaml, the desk's own)
    root: str = ""
    compiled: dict[str, Any] = {}   # programme id -> CompiledProgramme (empty until compiled)

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


def field_label(fields: dict, path: str, lang: str) -> str:
    """A claim-file field as a person names it (rules/desk.yaml); a line fact is the loss line's field."""
    key = "losses." + path[5:] if path.startswith("line.") else path
    entry = fields.get(key)
    return entry[lang] if isinstance(entry, dict) and lang in entry else path


def _expand_requires(rule: Rule, fields: dict | None = None) -> list[Rule]:
    """A rule that requires facts gets, per fact, a companion that answers needs_information.

    The main rule only fires when the fact is present. The companion keeps the rule's conditions
    on facts it does not require, asks that the fact be absent, and says which coverages wait for it.
    """
    out = []
    covs = rule.effect.coverages
    # A companion drops every condition on ANY required fact: when several are missing, each
    # companion must still fire, or the coverage would fall to a silent "not covered".
    def free(c: Any) -> bool:
        return not any(mentions(c, p) for p in rule.requires)

    for path in rule.requires:
        ja, en = field_label(fields or {}, path, "ja"), field_label(fields or {}, path, "en")
        when = [c for c in rule.when if free(c)]
        line = [c for c in rule.line if free(c)]
        cond = {"fact": path, "present": False}
        if path.startswith("line."):
            line = line + [cond]
        else:
            when = when + [cond]
        out.append(Rule(
            id=f"{rule.id}:needs:{path}", clause=rule.clause, title=rule.title,
            # the field by its label, not its path (issue 15): the needs section names the path for the file
            text=Text(ja=f"「{rule.title.ja}」（{rule.clause}）を判断するには「{ja}」が必要ですが、請求ファイルにありません。",
                      en=f"\u201c{en}\u201d is needed to decide \u201c{rule.title.en}\u201d ({rule.clause}) and the claim file lacks it."),
            wording=rule.wording, programmes=rule.programmes, plans=rule.plans, on=rule.on,
            when=when, line=line, effect=Effect(kind="need", target=path, coverages=covs),
            source_file=rule.source_file, generated_from=rule.id))
    if rule.requires:
        rule = rule.model_copy(update={"when": rule.when + [
            {"fact": p, "present": True} for p in rule.requires if not p.startswith("line.")],
            "line": rule.line + [{"fact": p, "present": True} for p in rule.requires if p.startswith("line.")]})
    return [rule] + out


class RulebookError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# The rulebook as read, cached between processes (a CLI call reads it from one JSON file instead of
# parsing ~20 YAML files and validating every rule; contract/filecache.py). The file's name is a key
# over everything the read depends on: the path, the sha256 of every rulebook file, and the code that
# reads them. The file holds its own sha256; a missing, unreadable, truncated, edited or foreign file
# is ignored and the rulebook read from its files (then the cache rewritten).
# ADJUDICATOR_CACHE_DIR names another folder; "off" turns the cache off.
_CACHE_FORMAT = b"adjudicator-rulebook-cache 2\n"
_CODE = ("engine/rule.py", "engine/rulebook.py", "engine/compile.py", "engine/facts.py", "contract/yamlsafe.py",
         "contract/filecache.py")
_CACHE_KEEP = 8
last_source = ""  # "cache" or "files": where the last rulebook read came from (tests)
_cache_dir = filecache.cache_dir


def _cache_key(root: Path, fingerprint: str) -> str:
    h = hashlib.sha256(_CACHE_FORMAT + str(root.resolve()).encode() + b"\0" + fingerprint.encode())
    pkg = Path(__file__).resolve().parent.parent
    for rel in _CODE:
        h.update(b"\0" + (pkg / rel).read_bytes())
    return h.hexdigest()


def _cache_get(path: Path) -> Rulebook | None:
    try:
        body = filecache.read_body(path, _CACHE_FORMAT)
        return None if body is None else Rulebook.model_validate(json.loads(body, object_hook=filecache.untag))
    except Exception:  # any doubt: read the files
        return None


def _cache_put(path: Path, book: Rulebook) -> None:
    try:
        data = book.model_dump(exclude={"compiled"})
        # key order kept (not sorted): a rulebook from the cache is the one from its files, order and all
        # (the rules page shows rule examples as written)
        body = json.dumps(data, default=filecache.tag, ensure_ascii=False).encode()
        if Rulebook.model_validate(json.loads(body, object_hook=filecache.untag)).model_dump(exclude={"compiled"}) != data:
            return  # something JSON would not give back exactly (e.g. a non-text key): no cache
    except (TypeError, ValueError):  # a value JSON lacks: no cache
        return
    filecache.write_body(path, _CACHE_FORMAT, body, _CACHE_KEEP)


@functools.lru_cache(maxsize=8)
def _read(root: Path) -> Rulebook:
    global last_source
    folder = _cache_dir()
    fingerprint = _fingerprint(root)
    try:
        path = folder / f"rulebook-{_cache_key(root, fingerprint)}.json" if folder is not None else None
    except OSError:  # the reading code is not readable as files (e.g. a zipped install): no cache
        path = None
    book = _cache_get(path) if path is not None else None
    if book is not None and book.sha256 == fingerprint and book.root == str(root):
        last_source = "cache"
        return book
    book = _read_files(root, fingerprint)
    last_source = "files"
    if path is not None:
        _cache_put(path, book)
    return book


def _read_files(root: Path, fingerprint: str) -> Rulebook:
    meta = yamlsafe.load((root / "rulebook.yaml").read_text(encoding="utf-8"))
    desk = yamlsafe.load((root / "desk.yaml").read_text(encoding="utf-8")) if (root / "desk.yaml").exists() else {}
    labels = {"fields": (desk or {}).get("fields", {}), "choices": (desk or {}).get("choices", {})}
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
            rules.extend(_expand_requires(rule, labels["fields"]))
    oos = yamlsafe.load((root / "out_of_scope.yaml").read_text(encoding="utf-8")) if (root / "out_of_scope.yaml").exists() else {}
    messages = yamlsafe.load((root / "messages.yaml").read_text(encoding="utf-8")) if (root / "messages.yaml").exists() else {}
    return Rulebook(version=str(meta["version"]), sha256=fingerprint, rules=rules,
                    out_of_scope=(oos or {}).get("items", []), messages=messages.get("messages", {}),
                    duties=messages.get("duties", {}), ui=messages.get("ui", {}), labels=labels, root=str(root))


def read_rulebook(root: str | os.PathLike | None = None) -> Rulebook:
    """The rulebook as written, not yet compiled (what `rules check` inspects first)."""
    return _read(rules_dir(root))


def compile_programme(rules: list[Rule], programme) -> CompiledProgramme:
    """Compile one programme's rules; raises ValueError on a condition the compiler refuses."""
    definition = {rule.id: compile_rule(rule, programme) for rule in rules}
    fields = frozenset(p for rule in rules for p in condition_paths(rule))
    targets = {rule.id: [c for name in rule.effect.coverages for c in programme.group(name)] for rule in rules}
    from .facts import FIELDS
    line_claim = {rule.id: line_claim_paths(rule) for rule in rules}
    keys = tuple(sorted({FIELDS[p].key for ps in line_claim.values() for p in ps}))
    return CompiledProgramme(definition, fields, targets, {rule.id: rule_paths(rule) for rule in rules},
                             keys, frozenset(r for r, ps in line_claim.items() if ps))


def compile_rulebook(book: Rulebook, catalogue: Catalogue) -> tuple[dict[str, CompiledProgramme], list[str]]:
    """Every programme of the catalogue compiled, and the problems that stopped any of them."""
    compiled, problems = {}, []
    for prog, programme in catalogue.programmes.items():
        try:
            compiled[prog] = compile_programme(book.for_programme(prog), programme)
        except (ValueError, KeyError) as exc:
            problems.append(f"{prog}: {exc.args[0] if exc.args else exc}")
    return compiled, problems


@functools.lru_cache(maxsize=8)
def _load(root: Path) -> Rulebook:
    book = _read(root)
    compiled, problems = compile_rulebook(book, load_catalogue(root))
    if problems:
        raise RulebookError(problems)
    return book.model_copy(update={"compiled": compiled})


def load_rulebook(root: str | os.PathLike | None = None) -> Rulebook:
    """The rulebook, compiled for every programme (cached per rules directory)."""
    return _load(rules_dir(root))
