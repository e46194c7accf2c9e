"""The desk's words: the claim-file contract's field and value labels as the rulebook read them
(rules/desk.yaml `fields`, `choices`: one source with the documents), beside the pages' own words
(desk.yaml `ui`, `payment_timing`) and messages.yaml `ui` (documents)."""
from __future__ import annotations

import functools
from pathlib import Path

from ...contract import yamlsafe
from ...engine.rulebook import Rulebook

LANGS = ("ja", "en")


@functools.lru_cache(maxsize=8)
def _desk_only(root: str) -> dict:
    """desk.yaml's sections the rulebook does not keep (the pages' words, the payment timing), read from
    the folder the rulebook was read from."""
    path = Path(root) / "desk.yaml"
    data = (yamlsafe.load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    return {"ui": data.get("ui", {}), "payment_timing": data.get("payment_timing", {"reasons": {}})}


class Labels:
    def __init__(self, book: Rulebook, programmes: dict | None = None):
        own = _desk_only(book.root)
        self.fields: dict = book.labels.get("fields", {})
        self.choices: dict = book.labels.get("choices", {})
        self.words: dict = own["ui"]
        self.doc_ui = book.ui
        self.programmes = programmes or {}  # id -> {ja, en}: the catalogue's labels
        self.payment_timing: dict = own["payment_timing"]

    def word(self, key: str, lang: str) -> str:
        entry = self.words.get(key)
        return entry[lang] if isinstance(entry, dict) and lang in entry else key

    def words_for(self, lang: str) -> dict:
        out = {k: v[lang] for k, v in self.words.items() if isinstance(v, dict) and lang in v}
        out["roles"] = {k: v[lang] for k, v in self.words.get("roles", {}).items()}
        return out

    def field(self, path: str, lang: str) -> str:
        entry = self.fields.get(path)
        return entry[lang] if entry else path.rsplit(".", 1)[-1]

    def choice(self, path: str, value: str, lang: str) -> str:
        """A contract value's label: desk.yaml by field (acts.* share one set), else messages.yaml ui."""
        if path == "programme" and value in self.programmes:
            return self.programmes[value][lang]
        group = self.choices.get(path) or self.choices.get(path.rsplit(".", 1)[0]) or {}
        if value in group:
            return group[value][lang]
        ui_group = {"losses.category": "categories", "policy.facility": "facilities"}.get(path)
        if ui_group and value in self.doc_ui.get(ui_group, {}):
            return self.doc_ui[ui_group][value][lang]
        return value
