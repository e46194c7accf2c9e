"""What every request of one worker process shares: settings, rulebook, catalogue, a ledger connection
per thread, the engine lock; and the one error type the routes raise."""
from __future__ import annotations

import threading

from ..engine.rulebook import load_rulebook
from ..ledger import Ledger
from ..policy.catalogue import load_catalogue
from .settings import Settings

# durable_rules is not thread-safe: one engine call at a time per process (decide, render).
ENGINE_LOCK = threading.Lock()


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
            led = self._local.ledger = Ledger(self.settings.ledger)
            if self.settings.anchor_dir:  # a signed anchor of the chain head every N records (issue 13)
                from ..ledger.chain import read_key
                led.auto_anchor(self.settings.anchor_dir, read_key(self.settings.anchor_key_file, create=True),
                                self.settings.anchor_every)
        return led
