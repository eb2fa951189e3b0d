"""mhgraph: put pseudonymised partner extracts together and rank the clusters worth a human look.

The stages are importable from the package itself, with the names the CLI uses::

    import mhgraph
    ingested = mhgraph.ingest("data/sample")
    resolved = mhgraph.resolve(ingested.mentions, ingested.relations)
    result = mhgraph.run_pipeline("data/sample", "out/sample")
"""

from __future__ import annotations

__version__ = "0.1.0"

# Imported here, not lazily: several functions share their module's name (``mhgraph.ingest``
# is both), and binding the function after the import makes the package attribute the
# function for good.
from mhgraph.detect import detect_communities
from mhgraph.evaluate import evaluate
from mhgraph.export import cluster_picture, report, write_outputs
from mhgraph.graph import build_graph_tables, to_networkx
from mhgraph.indicators import compute_indicators
from mhgraph.ingest import ingest
from mhgraph.pipeline import run_pipeline
from mhgraph.pseudonymise import pseudonymise, pseudonymise_frame
from mhgraph.rank import rank_clusters
from mhgraph.resolve import explain_match, resolve
from mhgraph.spec import load_spec, load_specs
from mhgraph.synth import synthesize

__all__ = [
    "__version__",
    "build_graph_tables",
    "cluster_picture",
    "compute_indicators",
    "detect_communities",
    "evaluate",
    "explain_match",
    "ingest",
    "load_spec",
    "load_specs",
    "pseudonymise",
    "pseudonymise_frame",
    "rank_clusters",
    "report",
    "resolve",
    "run_pipeline",
    "synthesize",
    "to_networkx",
    "write_outputs",
]
