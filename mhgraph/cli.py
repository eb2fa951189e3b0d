"""The ``mhgraph`` command: a thin layer over the library functions of the same names.

Each subcommand is a ``_cmd_NAME(args)`` function plus its arguments in ``build_parser``.
Progress goes to stderr through :mod:`logging` (``--quiet`` silences it); a failure prints
one line ``mhgraph: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys

from mhgraph.errors import MhgraphError

log = logging.getLogger("mhgraph")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mhgraph",
        description="Put pseudonymised partner extracts together into a graph and rank the clusters "
        "that deserve a human look.",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print no progress, only results and errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Subcommands are registered below, one block each.
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    try:
        return int(args.handler(args) or 0)
    except MhgraphError as exc:
        print(f"mhgraph: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mhgraph: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
