"""The desk's words: rules/desk.yaml (fields, values, page words) beside messages.yaml `ui` (documents)."""
from __future__ import annotations

import functools
from pathlib import Path

from ...contract import yamlsafe
from ...policy.catalogue import rules_dir

LANGS = ("ja", "en")


@functools.lru_cache(maxsize=8)
def _load(root: Path) -> dict:
    path = root / "desk.yaml"
    return yamlsafe.load(path.read_text(encoding="utf-8")) if path.exists() else {}


class Labels:
    def __init__(self, rules: str | None, ui: dict, programmes: dict | None = None):
        data = _load(rules_dir(rules))
        self.fields: dict = data.get("fields", {})
        self.choices: dict = data.get("choices", {})
        self.words: dict = data.get("ui", {})
        self.doc_ui = ui
        self.programmes = programmes or {}  # id -> {ja, en}: the catalogue's labels
        self.payment_timing: dict = data.get("payment_timing", {"days": 30, "reasons": {}})

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
