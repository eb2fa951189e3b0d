"""Entity resolution on pseudonymised mentions: which mentions are the same person, company,
address or permit.

One module per step, each a function over Polars tables that a notebook can inspect::

    from mhgraph.resolve import block, compare, make_scorer, cluster, resolve, default_settings
    settings = default_settings()
    pairs = block(mentions, settings)                        # candidate pairs, no quadratic step
    features = compare(pairs, mentions, relations, settings) # Dice, key agreement, relations
    resolved = resolve(mentions, relations, settings)        # everything, with the evidence
    explain_match(a, b, resolved, mentions, relations)       # why two mentions are (not) one
    resolution_diagnostics(resolved, mentions)               # does the run look collapsed?

See ``docs/entity-resolution.md`` for the method, the settings and the measured quality.
"""

from mhgraph.resolve.baseline import identity_resolution, resolve_baseline
from mhgraph.resolve.block import block
from mhgraph.resolve.cluster import Clusters, cluster, entity_id
from mhgraph.resolve.compare import compare
from mhgraph.resolve.conflicts import IdentityConflicts, find_identity_conflicts
from mhgraph.resolve.diagnostics import resolution_diagnostics
from mhgraph.resolve.explain import Explanation, explain_match
from mhgraph.resolve.metrics import blocking_quality, pairwise_scores
from mhgraph.resolve.overrides import load_overrides
from mhgraph.resolve.pipeline import Resolved, load_run, resolve, save_model, save_run
from mhgraph.resolve.score import FellegiSunter, LogisticScorer, RuleScorer, make_scorer
from mhgraph.resolve.settings import ResolveSettings, default_settings, load_settings

__all__ = [
    "Clusters",
    "Explanation",
    "FellegiSunter",
    "IdentityConflicts",
    "LogisticScorer",
    "ResolveSettings",
    "Resolved",
    "RuleScorer",
    "block",
    "blocking_quality",
    "cluster",
    "compare",
    "default_settings",
    "entity_id",
    "explain_match",
    "find_identity_conflicts",
    "identity_resolution",
    "load_overrides",
    "load_run",
    "load_settings",
    "make_scorer",
    "pairwise_scores",
    "resolution_diagnostics",
    "resolve",
    "resolve_baseline",
    "save_model",
    "save_run",
]
