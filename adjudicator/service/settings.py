"""The service's settings: from `adjudicator serve` flags, passed to each worker process through the
environment (uvicorn starts workers by importing the app factory)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

ENV = {"ledger": "ADJUDICATOR_LEDGER", "rules": "ADJUDICATOR_RULES", "max_body": "ADJUDICATOR_MAX_BODY",
       "rulebooks": "ADJUDICATOR_RULEBOOKS", "anchor_dir": "ADJUDICATOR_ANCHOR_DIR",
       "anchor_every": "ADJUDICATOR_ANCHOR_EVERY", "anchor_key_file": "ADJUDICATOR_ANCHOR_KEY",
       "secret": "ADJUDICATOR_DESK_SECRET"}
DEFAULT_MAX_BODY = 1024 * 1024  # 1 MiB: a real claim file is a few kB


@dataclass(frozen=True)
class Settings:
    ledger: str | None = None              # SQLite path or postgresql:// URL (None: the default ledger)
    rules: str | None = None               # rulebook directory (None: the project's rules/)
    max_body: int = DEFAULT_MAX_BODY       # request bodies above this get 413 before they are parsed
    rulebooks: dict[str, str] = field(default_factory=dict)  # name -> folder, for POST /api/v1/diff
    anchor_dir: str | None = None          # write a signed anchor of the chain head here ...
    anchor_every: int = 1000               # ... every this many records
    anchor_key_file: str | None = None     # the HMAC key (default: ledger/chain.py's default key file)
    secret: str | None = None              # signs the desk's session cookies (None: a random one per process)

    @classmethod
    def from_env(cls) -> "Settings":
        books = {}
        for item in filter(None, os.environ.get(ENV["rulebooks"], "").split(os.pathsep)):
            name, _, folder = item.partition("=")
            books[name] = folder
        return cls(ledger=os.environ.get(ENV["ledger"]) or None, rules=os.environ.get(ENV["rules"]) or None,
                   max_body=int(os.environ.get(ENV["max_body"]) or DEFAULT_MAX_BODY), rulebooks=books,
                   anchor_dir=os.environ.get(ENV["anchor_dir"]) or None,
                   anchor_every=int(os.environ.get(ENV["anchor_every"]) or 1000),
                   anchor_key_file=os.environ.get(ENV["anchor_key_file"]) or None,
                   secret=os.environ.get(ENV["secret"]) or None)

    def to_env(self) -> dict[str, str]:
        env = {ENV["max_body"]: str(self.max_body),
               ENV["rulebooks"]: os.pathsep.join(f"{k}={v}" for k, v in self.rulebooks.items())}
        if self.ledger:
            env[ENV["ledger"]] = self.ledger
        if self.rules:
            env[ENV["rules"]] = self.rules
        if self.anchor_dir:
            env[ENV["anchor_dir"]] = self.anchor_dir
            env[ENV["anchor_every"]] = str(self.anchor_every)
        if self.anchor_key_file:
            env[ENV["anchor_key_file"]] = self.anchor_key_file
        if self.secret:
            env[ENV["secret"]] = self.secret
        return env
