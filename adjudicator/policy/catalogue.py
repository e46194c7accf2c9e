"""The plan catalogue: programmes, plans, limits, premiums, read from rules/programmes/*.yaml.

This module only reads data; every number lives in the YAML beside its seed reference.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..contract import filecache, yamlsafe

if TYPE_CHECKING:  # annotations only: reading the catalogue needs no pydantic (`plans`, `quote`)
    from ..contract.claim import Claim

DEFAULT_RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


def rules_dir(override: str | os.PathLike | None = None) -> Path:
    """Where the rulebook lives: explicit argument, $ADJUDICATOR_RULES, or the project's rules/."""
    if override is not None:
        return Path(override).resolve()
    env = os.environ.get("ADJUDICATOR_RULES")
    return Path(env).resolve() if env else DEFAULT_RULES_DIR


def value(node: Any) -> Any:
    """A catalogue value is either a bare value or {value: ..., reference: ...}."""
    return node["value"] if isinstance(node, dict) and "value" in node else node


@dataclass(frozen=True)
class Programme:
    id: str
    data: dict

    @property
    def label(self) -> dict:
        return self.data["label"]

    @property
    def coverages(self) -> dict[str, dict]:
        return self.data["coverages"]

    @property
    def coverage_ids(self) -> list[str]:
        return list(self.data["coverages"])

    @property
    def plans(self) -> dict[str, dict]:
        return self.data.get("plans") or {}

    def group(self, name: str) -> list[str]:
        """A coverage id or a named group of coverage ids (rules may target either)."""
        if name in self.coverages:
            return [name]
        groups = self.data.get("coverage_groups", {})
        if name not in groups:
            raise KeyError(f"{self.id}: no coverage or coverage group named {name!r}")
        return list(groups[name])

    def plan_kind(self, plan: str | None) -> str:
        if not self.plans:
            return "none"
        return self.plans[plan]["kind"]

    def _limit_node(self, plan: str, key: str, facility: str | None) -> Any:
        """A plan's limit entry: one value, or one per facility (e.g. ② for clinics vs hospitals)."""
        node = self.plans[plan]["limits"][key]
        if isinstance(node, dict) and "value" not in node:
            node = node[facility]
        return node

    def plan_limit(self, plan: str, key: str, facility: str) -> int:
        return int(value(self._limit_node(plan, key, facility)))

    def limit_source(self, plan: str | None, claim: Claim, spec: dict) -> tuple[int | None, str]:
        """Resolve a pool's `limit` spec to (yen or None, reference)."""
        if "plan_limit" in spec:
            node = self._limit_node(plan, spec["plan_limit"], claim.policy.facility)
            return int(value(node)), node.get("reference", "") if isinstance(node, dict) else ""
        if "policy_field" in spec:
            v = getattr(claim.policy, spec["policy_field"])
            return (None if v is None else int(v)), f"policy.{spec['policy_field']}"
        raise ValueError(f"{self.id}: unknown limit spec {spec!r}")

    @property
    def payment_clock_days(self) -> int:
        """Days from the completed claim (請求完了日) to the payment due date (rules check requires it)."""
        return int(value(self.data["payment_clock"]["days"]))

    # --- policy period -------------------------------------------------------------------
    @property
    def period_start(self) -> dt.date:
        return value(self.data["period"]["start"])

    @property
    def period_end(self) -> dt.date | None:
        end = self.data["period"].get("end")
        return None if end is None else value(end)

    def cover_start(self, enrolled_on: dt.date | None) -> dt.date:
        """Start of cover: the period start, or the mid-term enrolment start (000 §14, 004 中途加入).

        Choice (rules/README.md, "Enrolled before the period"): an application received before the period
        starts, even after the 申込締切日, covers from the period start: the mid-term rule is for joining
        「保険期間の中途」, and an application the insurer accepted before the period is one for the whole
        period (its certificate shows the start)."""
        start = self.period_start
        rule = self.data.get("mid_term_enrolment")
        if enrolled_on is None or rule is None or enrolled_on < start:
            return start
        cutoff = value(rule["cutoff_day"])
        months = value(rule["months_after_if_by_cutoff"] if enrolled_on.day <= cutoff
                       else rule["months_after_if_after_cutoff"])
        month_index = enrolled_on.year * 12 + (enrolled_on.month - 1) + months
        begins = dt.date(month_index // 12, month_index % 12 + 1, value(rule["start_day"]))
        return max(begins, start)


@dataclass(frozen=True)
class Catalogue:
    root: Path
    programmes: dict[str, Programme]

    def __getitem__(self, programme_id: str) -> Programme:
        return self.programmes[programme_id]

    def payment_clock_days(self, programme_id: str) -> int:
        """The programme's payment clock; for a programme this rulebook no longer has (a record from an
        earlier rulebook), the shortest clock of those it has: a due date can come early, never late."""
        if programme_id in self.programmes:
            return self.programmes[programme_id].payment_clock_days
        return min(p.payment_clock_days for p in self.programmes.values())


# The programmes as read, cached between processes like the rulebook (contract/filecache.py): one JSON
# file named by a key over the folder, every programme file's name and text and the reading code; a
# missing, damaged or foreign file is ignored and the programmes read from their files.
_CACHE_FORMAT = b"adjudicator-catalogue-cache 1\n"
_CODE = ("policy/catalogue.py", "contract/yamlsafe.py", "contract/filecache.py")
_CACHE_KEEP = 8
last_source = ""  # "cache" or "files": where the last catalogue read came from (tests)


def _cache_path(root: Path, files: list[tuple[Path, str]]) -> Path | None:
    folder = filecache.cache_dir()
    if folder is None:
        return None
    h = hashlib.sha256(_CACHE_FORMAT + str(root.resolve()).encode())
    for path, text in files:
        h.update(b"\0" + path.name.encode() + b"\0" + text.encode("utf-8"))
    pkg = Path(__file__).resolve().parent.parent
    try:
        for rel in _CODE:
            h.update(b"\0" + (pkg / rel).read_bytes())
    except OSError:  # the reading code is not readable as files (e.g. a zipped install): no cache
        return None
    return folder / f"catalogue-{h.hexdigest()}.json"


def _cache_get(path: Path) -> list | None:
    try:
        body = filecache.read_body(path, _CACHE_FORMAT)
        docs = None if body is None else json.loads(body, object_hook=filecache.untag)
    except Exception:  # any doubt: read the files
        return None
    if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
        return None
    return docs


def _cache_put(path: Path, docs: list) -> None:
    try:
        body = json.dumps(filecache.encode(docs), default=filecache.tag, ensure_ascii=False).encode()
    except (TypeError, ValueError):  # a value JSON lacks: no cache
        return
    if json.loads(body, object_hook=filecache.untag) != docs:
        return  # something JSON would not give back exactly (e.g. a non-text key): no cache
    filecache.write_body(path, _CACHE_FORMAT, body, _CACHE_KEEP)


@functools.lru_cache(maxsize=8)
def _load(root: Path) -> Catalogue:
    global last_source
    paths = sorted((root / "programmes").glob("*.yaml"))
    files = [(path, path.read_text(encoding="utf-8")) for path in paths]
    cache = _cache_path(root, files)
    docs = _cache_get(cache) if cache is not None else None
    if docs is not None and len(docs) == len(files):
        last_source = "cache"
    else:
        docs = [yamlsafe.load(text) for _, text in files]
        last_source = "files"
        if cache is not None:
            _cache_put(cache, docs)
    progs = {}
    for data in docs:
        progs[data["programme"]] = Programme(data["programme"], data)
    return Catalogue(root, progs)


def load_catalogue(root: str | os.PathLike | None = None) -> Catalogue:
    return _load(rules_dir(root))
