"""The one adapter between this project and durable_rules. Nothing else imports durable_rules.

It drives the C core (`durable_rules_engine`) directly, which the project's measurements found
about 3.5x faster than `durable.engine.Host` and free of its background threads. Each item of
../shared/notes/durable_rules.md is neutralised here (tests/test_rete.py proves it):

 1 unhandled fact, then delete_state -> segfault: every ruleset gets a catch-all rule matching any
   fact with an `id` (its firings are dropped unread), and every fact must carry an `id`; if the core
   still reports "not handled" the ruleset is discarded (never delete_state on it) and rebuilt.
 2 ~1,024 live sids per ruleset: one sid per ruleset, ever. By default it lives on: each claim's
   facts are retracted when the claim ends (the same JSON that asserted them; the core then holds
   only its state fact), which spares the core building a fresh state per claim. On any doubt (an
   error, a retraction the core does not confirm, a firing after it) the state is deleted as in the
   reference mode (`fresh_state=True`: delete_state after every claim). tests/test_rete.py runs
   every hazard in both modes.
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
13 (found here) retracting a fact that sits in a join (two facts in one rule) makes the core read
   uninitialised memory (valgrind: deleteMessageFromFrame under retractFacts). No rule joins two
   facts: line facts carry copies of the claim properties line rules read (compile.py, facts.py),
   and a ruleset with a join is driven in the reference mode (delete_state per claim) only.
Also: an `$or` condition fires once per satisfied branch; identical (rule, facts) firings are merged.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import threading
from typing import NamedTuple

import orjson


def _import_core():
    """durable_rules' C core. On Python 3.13 its extension still names PyEval_CallObject (removed
    from the C API in 3.13), but only inside the five Python callbacks that `set_*_callback` installs
    (store/delete/queue messages, queued messages, idle state: rulespy/rules.c), which this adapter
    never calls. Loading it with lazy symbol binding (RTLD_LAZY) lets it import unchanged: the
    symbol would be resolved only on a call that never happens (tests/test_rete.py holds that no
    `set_*_callback` is used). Python 3.11 and 3.12 load it as usual."""
    import sys
    if sys.version_info < (3, 13):
        import durable_rules_engine
        return durable_rules_engine
    flags = sys.getdlopenflags()
    sys.setdlopenflags((flags & ~os.RTLD_NOW) | os.RTLD_LAZY)
    try:
        import durable_rules_engine
    finally:
        sys.setdlopenflags(flags)
    return durable_rules_engine


_core = _import_core()

CATCH_ALL = "__catch_all__"
_CATCH_ALL_PREFIX = '{"' + CATCH_ALL + '"'
_SID = "0"
_MAX_PROPERTIES = 250  # the core fails at 255 (error 302); keep a margin for `sid`
_MAX_SAFE_INT = 2 ** 53
_names = itertools.count()


_pid = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork)


class RuleEngineError(RuntimeError):
    """The rule engine refused or failed on a claim's facts."""


class Firing(NamedTuple):
    """One rule firing (a tuple: built a dozen times a claim, cheaper than a frozen dataclass)."""
    rule: str
    facts: dict  # alias -> matched fact (dict)


_SCALARS = (str, bool, int, type(None))


def _check_facts(facts: list[dict]) -> dict[str, tuple[dict, str]]:
    """Refuse what the core mishandles (items 4 and 8) before it gets there; each fact as sent (with
    the sid) and its JSON, by id."""
    by_id: dict[str, tuple[dict, str]] = {}
    for fact in facts:
        if not isinstance(fact, dict) or not isinstance(fact.get("id"), str):
            raise RuleEngineError(f"every fact needs a string 'id': {fact!r}")
        if fact["id"] in by_id:
            raise RuleEngineError(f"duplicate fact id {fact['id']!r} (the core would reject the whole batch)")
        if "sid" in fact:
            raise RuleEngineError("facts must not carry 'sid'; the adapter assigns it")
        if len(fact) > _MAX_PROPERTIES:
            raise RuleEngineError(f"fact {fact['id']!r} has {len(fact)} properties (limit {_MAX_PROPERTIES})")
        for key, val in fact.items():
            t = type(val)
            if t is str or t is bool or val is None:
                continue
            if t is int:
                if val > _MAX_SAFE_INT or val < -_MAX_SAFE_INT:
                    raise RuleEngineError(f"fact {fact['id']!r}.{key} exceeds 2**53")
            elif not isinstance(val, _SCALARS):
                kind = "a float; use int (yen)" if isinstance(val, float) else "nested; facts must be flat"
                raise RuleEngineError(f"fact {fact['id']!r}.{key} is {kind}")
        sent = dict(fact, sid=_SID)
        by_id[fact["id"]] = (sent, orjson.dumps(sent).decode("utf-8"))
    return by_id


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
        self._rules = frozenset(self._definition)
        # item 13: retraction is safe only when no rule joins two facts
        self._joins = any(len(rule.get("all", ())) != 1 or len(rule) != 1 for rule in self._definition.values())
        self._lock = threading.Lock()
        self._pid = None
        self._handle = None

    @property
    def joins(self) -> bool:
        """Some rule joins two facts: what fires on a fact may depend on the others asserted with it."""
        return self._joins

    def _ensure_handle(self) -> int:
        # A forked worker must not share the parent's C state: build a fresh handle per process
        # (_pid is refreshed in a forked child, so no getpid call per claim).
        if self._handle is None or self._pid != _pid:
            self._handle = _core.create_ruleset(f"rs{next(_names)}", self._json)
            self._pid = _pid
        return self._handle

    def run(self, facts: list[dict], fresh_state: bool = False) -> list[Firing]:
        """Assert one claim's facts and collect every firing in order; then retract the facts (or,
        with fresh_state, the reference mode, delete the state)."""
        by_id = _check_facts(facts)
        payload = "[" + ",".join([t for _, t in by_id.values()]) + "]"  # the bytes orjson.dumps(sent) writes
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
            clean = False
            try:
                result = _core.start_action_for_state(handle, state)
                message = result[1] if result else None
                seen = set()
                while message:
                    if message.startswith(_CATCH_ALL_PREFIX):  # nothing to read in it
                        message = _core.complete_and_start_action(handle, state)
                        continue
                    for rule, matched, key in self._read(message, by_id):
                        # The core compiles `$or` into one path per branch, so a rule whose facts
                        # satisfy several branches fires once per branch: keep the first.
                        if rule != CATCH_ALL and key not in seen:
                            seen.add(key)
                            firings.append(Firing(rule, matched))
                    message = _core.complete_and_start_action(handle, state)
                if not fresh_state and not self._joins:
                    clean = self._retract(handle, payload)
            finally:
                if not clean:
                    _core.delete_state(handle, _SID)
            return firings

    def _read(self, message: str, by_id: dict) -> list[tuple[str, dict, tuple]]:
        """A firing's (rule, {alias: fact}, dedup key) triples. A firing on one fact is recognised
        without parsing the JSON: the message must be exactly `{"<rule>":{"<alias>":<the fact's
        JSON as we sent it>}}` (checked in full, so the matched fact is the one we sent, as the
        same dict the parser would give); anything else is parsed."""
        i = message.find('":{"', 2)
        j = message.find('":{"id":"', i + 4)
        if i > 0 and j > 0 and message.startswith('{"'):
            rule, alias = message[2:i], message[i + 4:j]
            fid = message[j + 9:message.find('"', j + 9)]
            hit = by_id.get(fid)
            if hit is not None and rule in self._rules and '"' not in alias and \
                    len(message) == j + 4 + len(hit[1]) and message.startswith(hit[1], j + 2) and \
                    message.endswith("}}"):
                return [(rule, {alias: hit[0]}, (rule, ((alias, fid),)))]
        return [(rule, matched, (rule, tuple(sorted((a, f["id"]) for a, f in matched.items()))))
                for rule, matched in orjson.loads(message).items()]

    @staticmethod
    def _retract(handle: int, payload: str) -> bool:
        """Retract the claim's facts from the live state; True when the state is clean again.

        Rules here have no negated joins, so a retraction never fires anything; if the core ever
        starts an action after it, that action is drained and the state deleted (returns False)."""
        code, state = _core.retract_facts(handle, payload)
        if code != 0:
            return False
        result = _core.start_action_for_state(handle, state)
        if not result:
            return True
        while _core.complete_and_start_action(handle, state):
            pass
        return False

    def live_facts(self) -> list[dict]:
        """The facts the core holds for the sid right now (tests: only the state fact between claims)."""
        with self._lock:
            return json.loads(_core.get_facts(self._ensure_handle(), _SID))


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
