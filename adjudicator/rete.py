"""The one adapter between this project and durable_rules. Nothing else imports durable_rules.

It drives the C core (`durable_rules_engine`) directly, which the project's measurements found
about 3.5x faster than `durable.engine.Host` and free of its background threads. Each item of
../shared/notes/durable_rules.md is neutralised here (tests/test_rete.py proves it):

 1 unhandled fact, then delete_state -> segfault: every ruleset gets a catch-all rule matching any
   fact with an `id` (its firings are dropped unread), and every fact must carry an `id`; if the core
   still reports "not handled" the ruleset is discarded (never delete_state on it) and rebuilt.
 2 ~1,024 live sids per ruleset: one sid per ruleset, deleted after every claim.
 3 exceptions inside actions swallowed: no Python actions run inside the core; we only collect the
   matched facts of each firing in our own loop, so nothing can be swallowed.
 4 identical facts in one call -> MessageObservedException: fact ids must be unique (checked).
 5 set_rulesets mutates its dict: definitions are deep-copied and serialised once.
 6 actions over 10 s re-run by a background thread: there are no actions and no background thread.
 7 every Host() leaks threads and handles: no Host; one C ruleset per distinct definition per
   process, cached and reused.
 8 > 255 properties per fact, floats: checked before asserting (ints only, no floats, flat facts).
 9 dispatch thread races the caller: no dispatch thread; a lock serialises each ruleset.
10 several sids in one assert_facts, then delete -> segfault: exactly one sid per call.
11 32-bit sid hash collisions join two claims: one live sid per ruleset at a time (the lock).
12 (found here) a join whose first condition takes every fact and whose second never arrives (tried
   as a cheaper catch-all), together with an `$ex` test on a property a fact lacks, corrupts the
   core's heap (segfault / "free(): invalid pointer"; a `$m` comparison on such a heap matched
   wrongly before crashing). No such catch-all; a `$m` comparison is always
   preceded by `$ex` tests on both properties (compile.py). tests/test_rete.py runs the combinations
   in subprocesses, and runs the real rulebook under valgrind memcheck: no error in the core.
Also: an `$or` condition fires once per satisfied branch; identical (rule, facts) firings are merged.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import threading
from dataclasses import dataclass

import durable_rules_engine as _core
import orjson

CATCH_ALL = "__catch_all__"
_CATCH_ALL_PREFIX = '{"' + CATCH_ALL + '"'
_SID = "0"
_MAX_PROPERTIES = 250  # the core fails at 255 (error 302); keep a margin for `sid`
_MAX_SAFE_INT = 2 ** 53
_names = itertools.count()


class RuleEngineError(RuntimeError):
    """The rule engine refused or failed on a claim's facts."""


@dataclass(frozen=True)
class Firing:
    rule: str
    facts: dict  # alias -> matched fact (dict)


_SCALARS = (str, bool, int, type(None))


def _check_facts(facts: list[dict]) -> None:
    """Refuse what the core mishandles (items 4 and 8) before it gets there."""
    ids = set()
    for fact in facts:
        if not isinstance(fact, dict) or not isinstance(fact.get("id"), str):
            raise RuleEngineError(f"every fact needs a string 'id': {fact!r}")
        if fact["id"] in ids:
            raise RuleEngineError(f"duplicate fact id {fact['id']!r} (the core would reject the whole batch)")
        ids.add(fact["id"])
        if "sid" in fact:
            raise RuleEngineError("facts must not carry 'sid'; the adapter assigns it")
        if len(fact) > _MAX_PROPERTIES:
            raise RuleEngineError(f"fact {fact['id']!r} has {len(fact)} properties (limit {_MAX_PROPERTIES})")
        for key, val in fact.items():
            if type(val) is int:
                if abs(val) > _MAX_SAFE_INT:
                    raise RuleEngineError(f"fact {fact['id']!r}.{key} exceeds 2**53")
            elif not isinstance(val, _SCALARS):
                kind = "a float; use int (yen)" if isinstance(val, float) else "nested; facts must be flat"
                raise RuleEngineError(f"fact {fact['id']!r}.{key} is {kind}")


class Ruleset:
    """A compiled durable_rules ruleset, safe to call from several threads (one claim at a time)."""

    def __init__(self, definition: dict):
        if CATCH_ALL in definition:
            raise RuleEngineError(f"rule name {CATCH_ALL!r} is reserved")
        self._definition = copy.deepcopy(definition)
        # Every fact matches this rule, so the core counts it as handled (item 1). Its firings are
        # dropped below. (A cheaper "join that never completes" catch-all was tried and corrupts
        # the core's memory together with an `$ex` test on an absent property: item 12.)
        self._definition[CATCH_ALL] = {"all": [{"m": {"$ex": {"id": 1}}}]}
        self._json = json.dumps(self._definition, ensure_ascii=False, sort_keys=True)
        self._lock = threading.Lock()
        self._pid = None
        self._handle = None

    def _ensure_handle(self) -> int:
        # A forked worker must not share the parent's C state: build a fresh handle per process.
        if self._handle is None or self._pid != os.getpid():
            self._handle = _core.create_ruleset(f"rs{next(_names)}", self._json)
            self._pid = os.getpid()
        return self._handle

    def run(self, facts: list[dict]) -> list[Firing]:
        """Assert one claim's facts, collect every firing in order, then delete the state."""
        _check_facts(facts)
        payload = orjson.dumps([dict(f, sid=_SID) for f in facts]).decode("utf-8")
        with self._lock:
            handle = self._ensure_handle()
            try:
                code, state = _core.assert_facts(handle, payload)
            except Exception as exc:  # the core raises on malformed input; its state may be unusable
                self._handle = None
                raise RuleEngineError(f"rule engine rejected the facts: {exc}") from None
            if code != 0:
                # 1 = not handled (cannot happen with the catch-all), 2 = observed (duplicate).
                # Never delete_state here (item 1): drop this handle and build a new one next time.
                self._handle = None
                raise RuleEngineError(f"rule engine returned code {code} for the facts")
            firings: list[Firing] = []
            try:
                result = _core.start_action_for_state(handle, state)
                message = result[1] if result else None
                seen = set()
                while message:
                    if message.startswith(_CATCH_ALL_PREFIX):  # nothing to read in it
                        message = _core.complete_and_start_action(handle, state)
                        continue
                    for rule, matched in orjson.loads(message).items():
                        # The core compiles `$or` into one path per branch, so a rule whose facts
                        # satisfy several branches fires once per branch: keep the first.
                        key = (rule, tuple(sorted((a, f["id"]) for a, f in matched.items())))
                        if rule != CATCH_ALL and key not in seen:
                            seen.add(key)
                            firings.append(Firing(rule, matched))
                    message = _core.complete_and_start_action(handle, state)
            finally:
                _core.delete_state(handle, _SID)
            return firings


_cache: dict[str, Ruleset] = {}
_by_identity: dict[int, tuple[dict, Ruleset]] = {}
_cache_lock = threading.Lock()


def ruleset_for(definition: dict) -> Ruleset:
    """One Ruleset per distinct definition per process (the core never frees rulesets).

    Callers pass the same (cached, never mutated) definition object claim after claim, so the
    object's identity is checked first and the content hash only on a miss.
    """
    hit = _by_identity.get(id(definition))
    if hit is not None and hit[0] is definition:
        return hit[1]
    key = hashlib.sha256(json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    with _cache_lock:
        rs = _cache.get(key)
        if rs is None:
            rs = _cache[key] = Ruleset(definition)
        _by_identity[id(definition)] = (definition, rs)
        return rs
