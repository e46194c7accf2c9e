"""main: parse the command line, refuse a missing rulebook folder, run the command; no stack trace
reaches a user. Short commands run with the cyclic garbage collector paused through start-up."""
from __future__ import annotations

import gc
import os
import sys

from . import common
from .audit import cmd_audit_show
from .common import _fail_input, rulebook_problem
from .parser import build_parser
from .runs import cmd_replay


# Start-up makes some 50,000 objects the cyclic garbage collector tracks, which live as long as the
# process (modules, pydantic's validators, the rulebook); the collector would walk them again and
# again while they are made (≈ 10 ms of one `adjudicate`, ≈ 12 ms of `rules check`: 70-odd
# collections). The short commands run with it paused; the two that then do real work (one claim's
# decision, the rule examples) call _started() first: what start-up made is moved out of the
# collector's way (gc.freeze) and collection resumes (≈ 2 ms left). main() restores the collector as it
# found it, so an in-process caller (the tests) sees no change.
_SHORT_COMMANDS = ("adjudicate", "rules", "plans", "quote", "schema", "template")  # one claim at most


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    short = bool(argv) and argv[0] in _SHORT_COMMANDS
    collecting = gc.isenabled()
    if short and collecting:
        gc.disable()
        common.collector_paused = True
    try:
        return _main(argv)
    finally:
        if short and collecting:
            if not common.collector_paused:
                gc.unfreeze()
            common.collector_paused = False
            gc.enable()


def _main(argv: list[str]) -> int:
    # A first argument that names a command is that command (nothing before it): build only its options.
    parser = build_parser(only=argv[0] if argv and not argv[0].startswith("-") else None)
    args = parser.parse_args(argv)
    if getattr(args, "func", None) in (cmd_audit_show, cmd_replay) and (args.id is None) == (args.seq is None):
        parser.error("name the record by claim id or by --seq N (one of the two)")
    rules, source = getattr(args, "rules", None), "--rules"
    if not rules:
        rules, source = os.environ.get("ADJUDICATOR_RULES"), "$ADJUDICATOR_RULES"
    problem = rulebook_problem(rules) if rules else None
    if problem:
        return _fail_input([(source, problem)])
    try:
        return args.func(args)
    except Exception as exc:  # noqa: BLE001 - no stack trace reaches a user (ADJUDICATOR_DEBUG=1 shows it)
        # A gate refusal a command did not handle itself is still bad input. (The gate is imported only
        # by the commands that read claims: when it is not loaded, no ClaimError can have been raised.)
        gate = sys.modules.get("adjudicator.contract.load")
        if gate is not None and isinstance(exc, gate.ClaimError):
            return _fail_input(exc.problems)
        if os.environ.get("ADJUDICATOR_DEBUG"):
            raise
        print(f"adjudicator: internal error ({type(exc).__name__}); nothing was written "
              "(ADJUDICATOR_DEBUG=1 shows the trace)", file=sys.stderr)
        return 1
