"""serve: the HTTP API and the claims desk under uvicorn (the only module that imports the service)."""
from __future__ import annotations

import argparse
import sys


def cmd_serve(args: argparse.Namespace) -> int:
    import logging
    import os
    import secrets

    import uvicorn

    from ..service.settings import Settings
    settings = Settings(ledger=args.ledger or os.environ.get("ADJUDICATOR_LEDGER"), rules=args.rules,
                        max_body=args.max_body, rulebooks=dict(_named_folder(v) for v in args.rulebook),
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


def _named_folder(text: str) -> tuple[str, str]:
    name, sep, folder = text.partition("=")
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(f"--rulebook: expected NAME=FOLDER, got {text!r}")
    return name, folder
