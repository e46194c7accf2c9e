"""What every request of one worker process shares: settings, rulebook, catalogue, a ledger connection
per thread, the engine lock; and the one error type the routes raise."""
from __future__ import annotations

import threading

from ..engine.rulebook import load_rulebook
from ..ledger import Ledger
from ..policy.catalogue import load_catalogue
from .settings import Settings

class FairLock:
    """A lock that lets its waiters in the order they came (threading.Lock does not: under load a
    request can wait behind many that arrived after it, a p99 of seconds)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next_ticket = 0   # the ticket the next comer draws
        self._serving = 0       # the ticket whose holder may go in

    def __enter__(self) -> "FairLock":
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            while ticket != self._serving:
                self._cond.wait()
        return self

    def __exit__(self, *exc) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


# durable_rules is not thread-safe: one engine call at a time per process (decide, render), in turn.
ENGINE_LOCK = FairLock()
# Recording requests of one process queue here in turn, rather than racing for the database's write
# lock (SQLite's busy handler retries by sleeping, which lets late comers overtake early ones). A
# record takes RECORD_LOCK, then ENGINE_LOCK inside it; nothing takes them the other way round.
RECORD_LOCK = FairLock()


class ApiError(Exception):
    """A refusal with its HTTP status, a short code, a sentence, and per-field problems."""

    def __init__(self, status: int, code: str, message: str, problems: list[tuple[str, str]] | None = None,
                 headers: dict | None = None):
        self.status, self.code, self.message = status, code, message
        self.problems = problems or []
        self.headers = headers
        super().__init__(message)


def error_body(code: str, message: str, problems: list[tuple[str, str]] | None = None) -> dict:
    return {"error": code, "message": message, "problems": [{"field": f, "message": m} for f, m in problems or []]}


class Context:
    """What every request shares in one worker process: settings, rulebook, catalogue, ledger connections."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.catalogue = load_catalogue(settings.rules)
        self.book = load_rulebook(settings.rules)
        self._local = threading.local()
        with Ledger(settings.ledger, create=True):  # create (or open and check) the ledger once at start-up
            pass

    def ledger(self) -> Ledger:
        led = getattr(self._local, "ledger", None)
        if led is None:
            led = self._local.ledger = Ledger(self.settings.ledger, shown_as="the service's ledger")
            if self.settings.anchor_dir:  # a signed anchor of the chain head every N records (issue 13)
                from ..ledger.chain import read_key
                led.auto_anchor(self.settings.anchor_dir, read_key(self.settings.anchor_key_file, create=True),
                                self.settings.anchor_every)
        return led
