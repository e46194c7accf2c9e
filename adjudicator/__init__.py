"""adjudicator: rule-based coverage adjudication for Japanese cyber / personal-information-leak insurance.

Flow of a claim: contract/ (what comes in) -> policy/ (the plan catalogue) -> engine/ (rules) |
payout/ (yen) -> decide.py (the decision) -> documents/ | ledger/ -> runs/ -> service/ | cli/.
Each package's docstring says what it may import; pyproject.toml's import-linter contracts hold it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["adjudicate", "ClaimError"]

if TYPE_CHECKING:
    from .contract.load import ClaimError
    from .decide import adjudicate


def __getattr__(name: str):
    """`adjudicator.adjudicate` and `adjudicator.ClaimError` are imported on first use (PEP 562), so a
    command that does not decide (`rules check`, `plans`, `--help`) does not import the whole path."""
    if name == "adjudicate":
        from .decide import adjudicate
        return adjudicate
    if name == "ClaimError":
        from .contract.load import ClaimError
        return ClaimError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
