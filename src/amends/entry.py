"""The `amends` command. `amends analyze` needs no database, so it runs without loading the rest
of the command line (about a second of imports); everything else goes to `amends.cli`."""

from __future__ import annotations

import logging
import sys

LIGHT = "analyze"


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if sys.argv[1:2] == [LIGHT]:
        from amends.analyze_cli import app

        app(args=sys.argv[2:], prog_name=f"amends {LIGHT}")
        return
    from amends.cli import app as full

    full()
