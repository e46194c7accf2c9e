"""YAML reading that refuses duplicate keys: in a claim file a silently overwritten amount, in the
rulebook a silently dropped condition, would change decisions without anyone noticing.

`load_claim` is stricter, for input from outside: a pass over the parser's events first (nesting
limit, no alias to the node that contains it, a budget of values with aliases counted expanded),
then libyaml's parser where PyYAML has it; no merge keys (`<<`), mapping keys that are plain values.
"""
from __future__ import annotations

import re

import yaml

from .text import quote

MERGE_TAG = "tag:yaml.org,2002:merge"


class UniqueKeyLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value, not a list or a mapping", key_node.start_mark)
        if key_node.tag == MERGE_TAG:
            if getattr(loader, "refuse_merge", False):
                raise yaml.constructor.ConstructorError(
                    None, None, "YAML merge keys (<<) are not accepted in a claim file: write the fields out "
                    "(a merged field could silently stand in for one written out)", key_node.start_mark)
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {quote(key)}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(text: str):
    """The project's own files (rulebook, plan catalogue): libyaml's parser where PyYAML has it
    (about 8x faster), duplicate keys refused as with UniqueKeyLoader."""
    return yaml.load(text, Loader=FileLoader)


_FAST = getattr(yaml, "CSafeLoader", None)  # libyaml's parser (PyYAML's wheels carry it); else pure Python


class ClaimLoader(_FAST or yaml.SafeLoader):
    """The claim files' loader: the unique-key mapping constructor, merge keys refused."""
    refuse_merge = True


ClaimLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

# YAML 1.1 reads `0300000` as octal (98,304 yen), `0x10` as 16, `190:20:30` as base 60, and `on`/`no` as
# booleans: a typed leading zero would silently pay another sum (hostile probe 4). A claim file's numbers
# are plain decimal digits (`_` between digits allowed) and its booleans true/false, as in YAML 1.2 and
# JSON; any other such scalar stays the text it is, which the contract refuses for a number or a
# true/false field, naming the field (and keeps as typed where text is wanted: policy_number: 0012345).
_INT_TAG, _BOOL_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool"
ClaimLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _BOOL_TAG)]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()}
ClaimLoader.add_implicit_resolver(_INT_TAG, re.compile(r"^[-+]?(?:0|[1-9](?:_?[0-9])*)$"), list("-+0123456789"))
ClaimLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class FileLoader(_FAST or yaml.SafeLoader):
    """UniqueKeyLoader on libyaml's parser: what `load` reads the project's own files with."""


FileLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _refuse(message: str, event) -> None:
    raise yaml.composer.ComposerError(None, None, message, getattr(event, "start_mark", None))


def precheck(text: str, max_depth: int, max_nodes: int, loader: type = ClaimLoader) -> None:
    """One pass over the parser's events (a state machine: no recursion, however deep the input)
    before anything is composed: nesting depth, aliases to a node that contains them, and the
    number of values with every alias counted as the size of what it refers to (a billion laughs
    is refused after max_nodes values, not after expanding them)."""
    depth = nodes = 0
    open_anchors: list[tuple[str | None, int]] = []  # (anchor, nodes before it) per open collection
    sizes: dict[str, int] = {}
    for event in yaml.parse(text, Loader=loader):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif kind is yaml.AliasEvent:
            if any(anchor == event.anchor for anchor, _ in open_anchors):
                _refuse(f"alias *{quote(event.anchor)} refers to the value that contains it", event)
            nodes += sizes.get(event.anchor, 1)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            depth += 1
            if depth > max_depth:
                _refuse(f"nested deeper than {max_depth} levels", event)
            nodes += 1
            open_anchors.append((event.anchor, nodes - 1))
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            depth -= 1
            anchor, before = open_anchors.pop()
            if anchor is not None:
                sizes[anchor] = nodes - before
        else:
            continue
        if nodes > max_nodes:
            _refuse(f"more than {max_nodes:,} values (YAML aliases counted as expanded); no claim is that large", event)


def load_claim(text: str, max_depth: int, max_nodes: int):
    precheck(text, max_depth, max_nodes)
    return yaml.load(text, Loader=ClaimLoader)
