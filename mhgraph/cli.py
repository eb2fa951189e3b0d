"""The ``mhgraph`` command: a thin layer over the library functions of the same names.

Each subcommand is a ``_cmd_NAME(args)`` function plus its arguments in ``build_parser``.
Progress goes to stderr through :mod:`logging` (``--quiet``, before or after the command
name, silences it). A failure prints one line ``mhgraph: error: ...``: status 2 for bad
input or options, status 1 for an unexpected failure, whose details (which may hold partner
data) are shown only with ``MHGRAPH_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import traceback

from mhgraph.errors import MhgraphError

log = logging.getLogger("mhgraph")


def build_parser() -> argparse.ArgumentParser:
    from mhgraph.crypto import HARDENINGS

    parser = argparse.ArgumentParser(
        prog="mhgraph",
        description="Put pseudonymised partner extracts together into a graph and rank the clusters "
        "that deserve a human look.",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print no progress, only results and errors")
    # The same option after the command name; SUPPRESS keeps a --quiet given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="print no progress, only results and errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Subcommands are registered below, one block each.

    p = sub.add_parser("ingest", parents=[common], help="read, validate and quarantine partner extracts into mentions and relations")
    p.add_argument("input_dir", help="folder with the delivered (pseudonymised) partner extracts")
    p.add_argument("--out", required=True, help="output folder: tables/{mentions,relations,quarantine}.parquet, "
                   "quarantine.csv, ingest_summary.json")
    p.add_argument("--specs", default=None, help="folder of source specs (default: the shipped ones)")
    _purpose_option(p, "riec_integral_assessment")
    p.add_argument("--max-quarantine-share", type=_share, default=None,
                   help="fail when more than this share of a file's rows is quarantined (0-1)")
    _add_accept_missing_sidecar(p)
    p.set_defaults(handler=_cmd_ingest)

    p = sub.add_parser("pseudonymise", parents=[common], help="partner side: turn a plaintext extract into the delivered form")
    p.add_argument("input", help="the plaintext extract (CSV, Parquet or .xlsx)")
    p.add_argument("--spec", required=True, help="spec name (see `mhgraph specs`) or path of a spec file")
    p.add_argument("--key-file", default=None, help="file holding the shared key (default: $MHGRAPH_KEY)")
    p.add_argument("--out", required=True, help="folder for the delivered extract and its sidecar")
    p.add_argument("--created", default=None, help="extract date for the sidecar, YYYY-MM-DD (default: today)")
    p.add_argument("--purpose", default=None, help="run purpose the extract is delivered for (default: "
                   "riec_integral_assessment); its delivery key is derived from the shared key")
    p.add_argument("--delimiter", default=None, help="the CSV's delimiter, e.g. ';' (default: found from the header)")
    p.add_argument("--encoding", default=None, help="the CSV's encoding, e.g. windows-1252 (default: found from the "
                   "bytes: UTF-8 or Windows-1252)")
    p.add_argument("--quarantine", default=None, help="CSV for the rows that fail the checks, with their plaintext "
                   "values, for this machine only (default: INPUT.quarantine.csv beside the input)")
    p.add_argument("--name-hardening", default=None, choices=HARDENINGS, help="how the name filters are hardened "
                   "against frequency attacks (default: the release's, see docs/privacy.md); every partner of a run "
                   "must use the same")
    p.set_defaults(handler=_cmd_pseudonymise)

    p = sub.add_parser("template", parents=[common], help="partner side: write an empty plaintext extract with the "
                       "header mhgraph pseudonymise expects")
    p.add_argument("spec", help="spec name (see `mhgraph specs`) or path of a spec file")
    p.add_argument("--out", default=None, help="file to write (default: SPEC_plaintext.csv, or .xlsx for an Excel spec)")
    p.set_defaults(handler=_cmd_template)

    p = sub.add_parser("keygen", parents=[common], help="write a new shared pseudonymisation key (32 random bytes, hex, mode 0600)")
    p.add_argument("--out", required=True, help="key file to create; an existing file is never overwritten")
    p.set_defaults(handler=_cmd_keygen)

    p = sub.add_parser("specs", parents=[common], help="list the source specs: name, partner, purpose, file")
    p.add_argument("--specs", default=None, help="folder of source specs (default: the shipped ones)")
    p.set_defaults(handler=_cmd_specs)

    documents = argparse.ArgumentParser(add_help=False)
    documents.add_argument("--lang", choices=("nl", "en"), default="nl",
                           help="language of the case-meeting documents (default: nl)")
    documents.add_argument("--partner-lists", choices=("evidence", "all"), default="evidence",
                           help="partner lists hold the evidence records only (default) or every record")

    p = sub.add_parser("run", parents=[common, documents], help="run the whole pipeline on a folder of partner extracts")
    p.add_argument("input_dir", help="folder with the delivered (pseudonymised) partner extracts")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", help="output folder (tables, report, HTML, manifest)")
    where.add_argument("--history", help="history folder of scheduled runs: a new run folder in it, compared "
                       "with the latest complete run, then made the latest (see docs/scheduled-runs.md)")
    _purpose_option(p, "riec_integral_assessment")
    p.add_argument("--overrides", default=None, help="analyst must-link / cannot-link file")
    p.add_argument("--max-quarantine-share", type=_share, default=None,
                   help="fail when more than this share of a file's rows is quarantined (0-1)")
    p.add_argument("--top", type=_positive_int, default=10, help="how many clusters get a page and a picture (default: 10)")
    p.add_argument("--seed", type=int, default=42, help="seed for community detection (default: 42)")
    p.add_argument("--resolver", choices=("full", "exact"), default="full",
                   help="full entity resolution (default), or exact keyed identifiers only")
    p.add_argument("--executor", default=None,
                   help="where the partitioned stages run, and community detection beside the indicator rules: "
                        "serial (one stage after the other), processes[:N] (default: one process per core), "
                        "dask[:N] (a local Dask cluster) or dask:tcp://HOST:PORT; the result is the same")
    p.add_argument("--previous", default=None, help="with --out: output folder of an earlier run with the same "
                   "purpose; keep its cluster ids and write what changed since (changes.json, top of the report)")
    p.add_argument("--keep", type=_positive_int, default=None,
                   help="with --history: keep this many complete runs, delete older ones (default: keep all)")
    p.add_argument("--specs", default=None, help="folder of source specs (default: the shipped ones)")
    p.add_argument("--settings", default=None, help="entity-resolution settings (TOML; default: the shipped ones)")
    p.add_argument("--strict", action="store_true",
                   help="fail (status 2) when the entity resolution looks collapsed; the run is still written")
    _add_accept_missing_sidecar(p)
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("diff", parents=[common], help="what changed between two finished runs; prints one JSON object")
    p.add_argument("old_out", help="output folder of the earlier run")
    p.add_argument("new_out", help="output folder of the later run")
    p.set_defaults(handler=_cmd_diff)

    p = sub.add_parser("report", parents=[common, documents],
                       help="write the case-meeting documents of a finished run again; --pdf prints them on A4")
    p.add_argument("run_dir", help="output folder of a finished run")
    p.add_argument("--top", type=_positive_int, default=None,
                   help="how many clusters get a page and a picture (default: the run's own --top)")
    p.add_argument("--pdf", action="store_true", help="also write report.pdf (A4) through headless Chromium")
    p.set_defaults(handler=_cmd_report)

    p = sub.add_parser("demo", parents=[common], help="generate a synthetic population, run the pipeline on it and evaluate")
    p.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    p.add_argument("--persons", type=int, default=2000, help="size of the synthetic population (default: 2000)")
    p.add_argument("--seed", type=int, default=7, help="seed of the synthetic population (default: 7)")
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("resolve", parents=[common], help="resolve the mentions of a run folder into entities (tables/mentions.parquet)")
    p.add_argument("run_dir", help="run folder with tables/mentions.parquet (and tables/relations.parquet)")
    p.add_argument("--settings", default=None, help="entity-resolution settings (TOML; default: the shipped ones)")
    p.add_argument("--overrides", default=None, help="analyst must-link / cannot-link file (CSV or TOML)")
    _purpose_option(p, "the one the folder was made under")
    p.set_defaults(handler=_cmd_resolve)

    p = sub.add_parser("explain-match", parents=[common], help="show why two mentions are, or are not, one entity")
    p.add_argument("run_dir", help="run folder written by `mhgraph run` or `mhgraph resolve`")
    p.add_argument("mention_a", help="mention_id of the first mention")
    p.add_argument("mention_b", help="mention_id of the second mention")
    _purpose_option(p, "the one the folder was made under")
    p.set_defaults(handler=_cmd_explain_match)

    p = sub.add_parser("load-neo4j", parents=[common], help="load a finished run (OUT_DIR/tables) into a Neo4j server")
    p.add_argument("out_dir", help="the run's output folder")
    p.add_argument("--uri", default=None, help="server, e.g. neo4j://host:7687 (default: $MHGRAPH_NEO4J_URI); "
                   "the password is read from $MHGRAPH_NEO4J_PASSWORD only")
    p.add_argument("--user", default=None, help="user name (default: $MHGRAPH_NEO4J_USER)")
    p.add_argument("--database", default=None, help="database (default: the server's default database)")
    p.add_argument("--run-id", default=None, help="run id (default: the one in OUT_DIR/run_manifest.json)")
    p.add_argument("--purpose", default=None, help="the run's purpose (default: the one in the manifest; "
                   "another one is refused); recorded with the run in the store and in the audit log")
    p.add_argument("--batch-size", type=int, default=5000, help="rows per transaction (default: 5000)")
    p.set_defaults(handler=_cmd_load_neo4j)

    p = sub.add_parser("synth", parents=[common], help="write synthetic partner extracts with planted networks and their ground truth")
    p.add_argument("--out", required=True, help="output folder (extracts, sidecars, truth/)")
    p.add_argument("--persons", type=int, default=5000, help="size of the population (default: 5000)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same bytes (default: 0)")
    p.add_argument("--noise", default="medium", help="low, medium, high, or a number that scales the medium rates (default: medium)")
    p.add_argument("--networks", type=int, default=None,
                   help="planted networks per typology (default: one per 20,000 persons, at least one)")
    p.add_argument("--lookalikes", type=int, default=None,
                   help="lawful look-alikes per kind (default: one per 10,000 persons, at least one)")
    p.set_defaults(handler=_cmd_synth)

    p = sub.add_parser("evaluate", parents=[common], help="score a finished run against synthetic ground truth; prints one JSON object")
    p.add_argument("out_dir", help="the run's output folder (with tables/)")
    p.add_argument("--truth", required=True, help="the truth folder written by `mhgraph synth` (or the folder holding it)")
    p.add_argument("--k", type=int, default=10, help="cut-off for recall_at_K and decoys_in_top_K (default: 10)")
    p.add_argument("--ablate-partners", action="store_true",
                   help="also rerun with each partner left out and with each alone, and report recall and AP for each")
    p.set_defaults(handler=_cmd_evaluate)

    p = sub.add_parser("audit", parents=[common], help="check the hash-chained audit log")
    audit = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = audit.add_parser("verify", parents=[common], help="exit 0 when the chain is intact; else name the first bad line")
    p.add_argument("log", nargs="?", default=None, help="the audit log (default: $MHGRAPH_AUDIT_LOG)")
    p.add_argument("--run", action="append", default=[], metavar="RUN_DIR",
                   help="a run folder whose manifests anchor lines of the log (repeatable); shows a cut-off end")
    p.set_defaults(handler=_cmd_audit_verify)
    return parser


def _purpose_option(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--purpose", default=None, help=f"run purpose (default: {default}); decides which sources "
                   "and attributes may be used (see `mhgraph.purpose`)")


def _add_accept_missing_sidecar(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accept-missing-sidecar", action="store_true",
                        help="take in extracts that have no .meta.json sidecar (their key, row count and purpose "
                        "are then unchecked; the summary says so); by default they are refused")


def _cmd_ingest(args) -> int:
    from mhgraph.ingest import ingest
    from mhgraph.manifest import record_ingest
    from mhgraph.purpose import DEFAULT_RUN_PURPOSE

    purpose = args.purpose or DEFAULT_RUN_PURPOSE
    result = ingest(args.input_dir, specs=args.specs, max_quarantine_share=args.max_quarantine_share,
                    accept_missing_sidecars=args.accept_missing_sidecar, out_dir=args.out, run_purpose=purpose)
    record_ingest(args.out, result, args.specs, purpose)
    print(result.summary.format())
    _print_quarantined(result.summary)
    print(f"tables: {', '.join(str(p) for p in result.paths.values())}")
    return 0


def _cmd_pseudonymise(args) -> int:
    from mhgraph.export.i18n import counted
    from mhgraph.file_names import shown_path
    from mhgraph.pseudonymise import NAME_HARDENING, partner_quarantine_path, pseudonymise, read_meta

    from mhgraph.purpose import DEFAULT_RUN_PURPOSE

    path = pseudonymise(args.input, args.spec, args.out, key_file=args.key_file, created=args.created,
                        delimiter=args.delimiter, encoding=args.encoding, quarantine=args.quarantine,
                        purpose=args.purpose or DEFAULT_RUN_PURPOSE, name_hardening=args.name_hardening or NAME_HARDENING)
    meta = read_meta(path)
    print(f"{shown_path(path)}: {meta['rows']} of {meta['rows_read']} rows delivered, source {meta['source']}, "
          f"for {meta['run_purpose']}, key fingerprint {meta['key_fingerprint']}")
    left_out = meta.get("values_left_out_by_partner", {})
    if meta["rows_quarantined_by_partner"] or left_out:
        print(f"{counted('en', meta['rows_quarantined_by_partner'], 'row')} not delivered and "
              f"{counted('en', sum(left_out.values()), 'value')} left out: "
              f"they fail the checks; see {shown_path(partner_quarantine_path(args.input, args.quarantine))} "
              f"(it holds plaintext: keep it on this machine)")
        for reason, rows in meta["quarantined_by_partner"].items():
            print(f"  quarantined, {reason}: {rows} row(s)")
        for reason, values in left_out.items():
            print(f"  value left out, row delivered, {reason}: {values} value(s)")
    return 0


def _cmd_template(args) -> int:
    from mhgraph.file_names import shown_path
    from mhgraph.pseudonymise import template

    # resolved, as `run` prints its report: the default lands in the working folder, --out may be relative
    path = template(args.spec, args.out).resolve()
    print(f"{shown_path(path)}: empty plaintext extract; fill it in and run mhgraph pseudonymise")
    return 0


def _cmd_keygen(args) -> int:
    from mhgraph.crypto import keygen

    from mhgraph.purpose import RUN_PURPOSES

    key = keygen(args.out)
    print(f"{args.out}: new key, fingerprint {key.fingerprint}; keep it apart from the data")
    for purpose in sorted(RUN_PURPOSES):
        print(f"  delivery key for {purpose}: fingerprint {key.for_purpose(purpose).fingerprint}")
    return 0


def _cmd_specs(args) -> int:
    from mhgraph.spec import SPEC_DIR, specs

    table = specs(args.specs or SPEC_DIR)
    columns = ["name", "partner", "purpose", "file"]
    widths = {c: max([len(c), *(len(v) for v in table[c].to_list())]) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in table.select(columns).iter_rows():
        print("  ".join(v.ljust(widths[c]) for c, v in zip(columns, row)).rstrip())
    return 0


def _cmd_resolve(args) -> int:
    import json
    from pathlib import Path

    from mhgraph.export.content import resolution_text
    from mhgraph.resolve import load_settings
    from mhgraph.stage_commands import resolve_run

    settings = load_settings(args.settings) if args.settings else None
    resolve_run(args.run_dir, args.purpose, settings, args.overrides)
    manifest = json.loads((Path(args.run_dir) / "resolve_manifest.json").read_text(encoding="utf-8"))
    print(resolution_text(manifest["resolution"], "en"))
    return 0


def _cmd_explain_match(args) -> int:
    from mhgraph.stage_commands import explain_run

    print(explain_run(args.run_dir, args.mention_a, args.mention_b, args.purpose))
    return 0


def _cmd_load_neo4j(args) -> int:
    from mhgraph.neo4j_store import load_neo4j

    report = load_neo4j(args.out_dir, args.uri, run_id=args.run_id, purpose=args.purpose,
                        batch_size=args.batch_size, database=args.database, user=args.user)
    for kind, name, rows, created in report.iter_rows():
        print(f"{kind} {name}: {rows} rows, {created} new")
    return 0


def _cmd_run(args) -> int:
    from mhgraph.errors import MhgraphError
    from mhgraph.history import scheduled_run
    from mhgraph.pipeline import run_pipeline
    from mhgraph.purpose import DEFAULT_RUN_PURPOSE
    from mhgraph.spec import SPEC_DIR

    options = dict(run_purpose=args.purpose or DEFAULT_RUN_PURPOSE, specs_dir=args.specs or SPEC_DIR,
                   overrides=args.overrides, max_quarantine_share=args.max_quarantine_share, top=args.top,
                   seed=args.seed, resolver=args.resolver, strict=args.strict, resolve_settings=args.settings,
                   lang=args.lang, partner_lists=args.partner_lists, accept_missing_sidecars=args.accept_missing_sidecar,
                   executor=args.executor)
    if args.history:
        if args.previous:
            raise MhgraphError("--previous goes with --out; a history compares with its latest run itself")
        result = scheduled_run(args.input_dir, args.history, keep=args.keep, **options)
    elif args.keep is not None:
        raise MhgraphError("--keep goes with --history")
    else:
        result = run_pipeline(args.input_dir, args.out, previous=args.previous, **options)
    clusters = result.tables["clusters"]
    summary = result.manifest["ingest"]
    # The flagged count and the partners' own hold-backs: without them "0 quarantined" and an empty report read as
    # if nothing was found or held back.
    held_back = sum(s.get("rows_quarantined_by_partner") or 0 for s in summary["sources"])
    print(f"{result.tables['mentions'].height} mentions -> {result.tables['nodes'].height} entities -> "
          f"{clusters.height} clusters, {result.manifest['clusters_flagged']} flagged; "
          f"{summary['rows_quarantined']} of {summary['rows_read']} rows quarantined"
          + (f"; {held_back} more held back by the partners' own checks" if held_back else ""))
    _print_quarantined(summary)
    if summary["files_without_sidecar"]:
        print(f"WARNING: {len(summary['files_without_sidecar'])} file(s) TAKEN IN WITHOUT A SIDECAR "
              "(--accept-missing-sidecar): key, row count and purpose unchecked")
    if summary["unmatched_files"]:  # a partner's file under a layout no spec knows must not vanish unseen
        print("files no spec matches (not read): " + ", ".join(summary["unmatched_files"]))
    print(f"report: {result.outputs.get('summary', result.out_dir)}")
    return 0


def _cmd_diff(args) -> int:
    from mhgraph.diff import changes_json, diff

    print(changes_json(diff(args.old_out, args.new_out)), end="")
    return 0


def _cmd_audit_verify(args) -> int:
    from mhgraph.audit import verify_audit_log
    from mhgraph.errors import MhgraphError
    from mhgraph.manifest import run_anchors

    log_path = args.log or os.environ.get("MHGRAPH_AUDIT_LOG")
    if not log_path:
        raise MhgraphError("name the audit log, or set MHGRAPH_AUDIT_LOG")
    result = verify_audit_log(log_path, run_anchors(args.run))
    if not result.intact:
        print(f"mhgraph: audit log {result.log}: {result.problem}", file=sys.stderr)
        return 1
    print(f"{result.log}: {result.lines} line(s), chain intact"
          + (f"; last line {result.lines} has hash {result.last_hash}" if result.last_hash else ""))
    return 0


def _cmd_report(args) -> int:
    from mhgraph.export import report

    written = report(args.run_dir, lang=args.lang, top=args.top, partner_lists=args.partner_lists, pdf=args.pdf)
    print(f"report: {written['summary']}, {written['index']}" + (f", {written['pdf']}" if "pdf" in written else ""))
    return 0


def _cmd_demo(args) -> int:
    import json
    from pathlib import Path

    from mhgraph.evaluate import evaluate
    from mhgraph.pipeline import run_pipeline
    from mhgraph.synth import synthesize

    out = Path(args.out)
    synthesize(out / "extracts", persons=args.persons, seed=args.seed)
    run_pipeline(out / "extracts", out / "run")
    print(json.dumps(evaluate(out / "run", out / "extracts" / "truth"), indent=2, sort_keys=True))
    return 0


def _cmd_synth(args) -> int:
    import json

    from mhgraph.synth import synthesize

    summary = synthesize(args.out, persons=args.persons, seed=args.seed, noise=args.noise, networks=args.networks,
                         lookalikes=args.lookalikes)
    print(json.dumps(summary, indent=2))
    return 0


def _cmd_evaluate(args) -> int:
    import json

    from mhgraph.evaluate import evaluate

    print(json.dumps(evaluate(args.out_dir, args.truth, k=args.k, ablate_partners=args.ablate_partners), indent=2))
    return 0


def _print_quarantined(summary) -> None:
    """Rows quarantined per reason (a row with two problems counts under both)."""
    for reason, rows in summary["quarantined_by_reason"].items():
        print(f"  quarantined, {reason}: {rows} row(s)")


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share from 0 to 1, not {value:g}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame, relative to the package: where it failed, no data."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    frame = frames[-1]
    marker = f"{os.sep}mhgraph{os.sep}"
    name = frame.filename
    return f"{'mhgraph' + os.sep + name.split(marker)[-1] if marker in name else os.path.basename(name)}:{frame.lineno}"


def _stop(signum, frame):
    """A scheduler stopping the command (SIGTERM) unwinds like Ctrl-C, so that a half-written run is cleared."""
    raise SystemExit(128 + signum)


_interrupted = threading.Event()


def _interrupt(signum, frame):
    """Ctrl-C, remembered: a library interrupted inside its own code may raise another error instead."""
    _interrupted.set()
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _stop)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _interrupt)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    try:
        return int(args.handler(args) or 0)
    except MhgraphError as exc:
        print(f"mhgraph: error: {'; '.join(str(exc).splitlines())}", file=sys.stderr)
        return 2
    except OSError as exc:
        from mhgraph.file_names import shown_path

        shown = shown_path(os.fsdecode(exc.filename)) if exc.filename else ""
        print(f"mhgraph: error: {exc.strerror or type(exc).__name__}: {shown}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mhgraph: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if _interrupted.is_set():  # e.g. polars turns an interrupt inside it into a TypeError
            print("mhgraph: interrupted", file=sys.stderr)
            return 130
        if os.environ.get("MHGRAPH_DEBUG"):
            raise
        # The message of an unexpected error may quote partner data: name only its kind and place.
        print(f"mhgraph: error: unexpected {type(exc).__name__} at {_where(exc)}; "
              "run again with MHGRAPH_DEBUG=1 to see the details", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
