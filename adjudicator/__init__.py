"""adjudicator: rule-based coverage adjudication for Japanese cyber / personal-information-leak insurance.

Flow of a claim: load.py (validate) -> facts.py (flat facts) -> rete.py (durable_rules, via the
compiled rulebook of compile.py) -> coverage.py (statuses, line mapping) -> waterfall.py (yen)
-> decide.py (decision JSON) -> explain.py (Jinja2 documents).
"""
from .decide import adjudicate
from .load import ClaimError

__all__ = ["adjudicate", "ClaimError"]
