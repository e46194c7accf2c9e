"""serve: the HTTP API and the claims desk under uvicorn (the only module that imports the service)."""
from __future__ import annotations

import argparse
import sys

from ..contract.text import quote
from .common import _fail_input, rulebook_problem, workers_problem


def _flag_problems(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The flags checked before anything starts: uvicorn would print a traceback for a bad port, and
    a bad body limit, worker count or rulebook folder would only show once the server runs."""
    problems = []
    if not 1 <= args.port <= 65535:
        problems.append(("--port", f"must be 1..65535 (got {args.port})"))
    if (why := workers_problem(args.workers)):
        problems.append(("--workers", why))
    if args.max_body < 1:
        problems.append(("--max-body", f"must be a positive number of bytes (got {args.max_body})"))
    if args.anchor_every < 1:
        problems.append(("--anchor-every", f"must be at least 1 (got {args.anchor_every})"))
    for text in args.rulebook:
        name, sep, folder = text.partition("=")
        if not (sep and name and folder):
            problems.append(("--rulebook", f"expected NAME=FOLDER, got {quote(text)}"))
        elif (why := rulebook_problem(folder)):
            problems.append(("--rulebook", f"{quote(name)}: {why}"))
    return problems


def cmd_serve(args: argparse.Namespace) -> int:
    if (problems := _flag_problems(args)):
        return _fail_input(problems)
    import logging
    import os
    import secrets

    import uvicorn

    from ..service.settings import Settings
    settings = Settings(ledger=args.ledger or os.environ.get("ADJUDICATOR_LEDGER"), rules=args.rules,
                        max_body=args.max_body, rulebooks=dict(v.partition("=")[::2] for v in args.rulebook),
                        anchor_dir=args.anchor_dir, anchor_every=args.anchor_every, anchor_key_file=args.key_file,
                        # one secret for every worker's desk session cookies (kept for this run only)
                        secret=os.environ.get("ADJUDICATOR_DESK_SECRET") or secrets.token_urlsafe(32))
    os.environ.update(settings.to_env())  # each worker process builds its app from the environment
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    print(f"adjudicator serve: http://{args.host}:{args.port}/api/v1, desk http://{args.host}:{args.port}/desk/ja/ "
          f"(workers {args.workers})", file=sys.stderr,
          flush=True)
    uvicorn.run("adjudicator.service.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, access_log=False, log_level="warning")
    return 0

