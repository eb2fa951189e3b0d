"""mhgraph: put pseudonymised partner extracts together and rank the clusters worth a human look.

The stages are importable from the package itself, with the names the CLI uses::

    import mhgraph
    ingested = mhgraph.ingest("data/sample")
    resolved = mhgraph.resolve(ingested.mentions, ingested.relations)
    result = mhgraph.run_pipeline("data/sample", "out/sample")

Names are imported on first use, so ``import mhgraph`` stays fast.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC = {
    "synthesize": "mhgraph.synth",
    "ingest": "mhgraph.ingest",
    "resolve": "mhgraph.resolve",
    "explain_match": "mhgraph.resolve",
    "build_graph_tables": "mhgraph.graph",
    "to_networkx": "mhgraph.graph",
    "detect_communities": "mhgraph.detect",
    "compute_indicators": "mhgraph.indicators",
    "rank_clusters": "mhgraph.rank",
    "write_outputs": "mhgraph.export",
    "evaluate": "mhgraph.evaluate",
    "run_pipeline": "mhgraph.pipeline",
    "pseudonymise_frame": "mhgraph.pseudonymise",
    "load_spec": "mhgraph.spec",
    "load_specs": "mhgraph.spec",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'mhgraph' has no attribute {name!r}")
