"""The command line, one module per command group, each importing what it uses only when its command runs. May import every layer; only adjudicator.__main__ imports it."""
from __future__ import annotations

from .common import cli_user
from .main import main

__all__ = ["main", "cli_user"]
