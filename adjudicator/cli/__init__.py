"""The command line (`adjudicator COMMAND`), one module per command group, each importing what its command uses when it runs; may import every layer below it; only adjudicator.__main__ imports it."""
from __future__ import annotations

from .common import cli_user
from .main import main

__all__ = ["main", "cli_user"]
