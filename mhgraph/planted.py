"""Planted-cell graphs: small dense groups hidden in a large sparse person-company-address graph.

Community detection on partner data must find groups of 5 to 50 entities inside a graph of
hundreds of thousands. :func:`planted_cell_graph` builds such a graph directly as ``nodes`` and
``edges`` tables (the shape of ``docs/tables.md``) together with the true cell of every planted
entity, so that a resolution parameter or edge-weighting can be checked on data of the size and
shape at hand before it is used on real extracts (see :func:`mhgraph.detect.detect_communities`).

The background imitates the registers: persons registered at addresses (mostly one to four per
address), employed by companies whose sizes are heavy-tailed (a few employers with thousands of
employees), companies with one or two officers, a few business-centre addresses holding many
companies, a few sponsored labour migrants. A planted cell is a labour-exploitation network:
one to three companies and their officers, one to five shared addresses, and workers employed by
the cell's companies, housed at the cell's addresses and partly sponsored by them. Cells are not
islands: some workers also worked for a background employer, some cell companies sit at a
business-centre address, officers hold other directorships, and each cell shares one worker
with the next cell (networks that know each other).

>>> nodes, edges, truth = planted_cell_graph(n_background=2_000, n_cells=5, seed=1)
>>> truth.get_column("cell").drop_nulls().n_unique()
5
>>> set(edges.get_column("type").unique()) >= {"EMPLOYED_BY", "REGISTERED_AT", "OFFICER_OF"}
True
>>> perfect = truth.select("entity_id", cluster_id=pl.col("cell").fill_null(pl.col("entity_id")))
>>> score_partition(truth, perfect)
{'nmi': 1.0, 'purity': 1.0, 'coverage': 1.0, 'exact': 1.0}
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import normalized_mutual_info_score

from mhgraph.graph import EDGE_COLUMNS, NODE_COLUMNS
from mhgraph.spec import load_specs

__all__ = ["planted_cell_graph", "score_partition"]

# Which extract states each relation type in the generated graph.
_SOURCE_OF = {
    "EMPLOYED_BY": "belastingdienst_loonaangifte",
    "REGISTERED_AT": "belastingdienst_loonaangifte",
    "OFFICER_OF": "kvk_functionarissen",
    "LOCATED_AT": "kvk_inschrijvingen",
    "SPONSORED_BY": "ind_verblijfsvergunningen",
}


class _EdgeList:
    """Collects (from, to, type) index arrays."""

    def __init__(self):
        self.parts: list[tuple[np.ndarray, np.ndarray, str]] = []

    def add(self, frm, to, relation_type: str) -> None:
        frm, to = np.atleast_1d(np.asarray(frm, dtype=np.int64)), np.atleast_1d(np.asarray(to, dtype=np.int64))
        if frm.size:
            self.parts.append((frm, np.broadcast_to(to, frm.shape).copy(), relation_type))


def _zipf_weights(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def planted_cell_graph(n_background: int = 10_000, n_cells: int | None = None,
                       cell_size: tuple[int, int] = (5, 50), seed: int = 0
                       ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Generate ``(nodes, edges, truth)``; ``truth`` has ``entity_id`` and ``cell`` (null = background).

    ``n_background`` entities form the background (60 % persons, 8 % companies, 32 % addresses);
    ``n_cells`` cells (default one per 250 background entities) of uniformly drawn size within
    ``cell_size`` are planted on top. Entity ids are shuffled, so that no id order reveals a cell.
    """
    rng = np.random.default_rng(seed)
    n_cells = max(1, n_background // 250) if n_cells is None else n_cells
    n_person, n_company = int(n_background * 0.60), int(n_background * 0.08)
    n_address = n_background - n_person - n_company
    persons = np.arange(n_person)
    companies = n_person + np.arange(n_company)
    addresses = n_person + n_company + np.arange(n_address)
    types = ["person"] * n_person + ["company"] * n_company + ["address"] * n_address
    cells: list[str | None] = [None] * n_background
    employer_weights = _zipf_weights(n_company, 1.1)
    hubs = addresses[: max(1, n_background // 5_000)]  # business-centre addresses
    edges = _EdgeList()

    edges.add(persons, rng.choice(addresses, n_person), "REGISTERED_AT")
    employed = persons[rng.random(n_person) < 0.7]
    edges.add(employed, rng.choice(companies, employed.size, p=employer_weights), "EMPLOYED_BY")
    switched = employed[rng.random(employed.size) < 0.15]
    edges.add(switched, rng.choice(companies, switched.size, p=employer_weights), "EMPLOYED_BY")
    at_hub = rng.random(n_company) < 0.15
    edges.add(companies, np.where(at_hub, rng.choice(hubs, n_company), rng.choice(addresses, n_company)),
              "LOCATED_AT")
    edges.add(rng.choice(persons, n_company), companies, "OFFICER_OF")
    second = companies[rng.random(n_company) < 0.2]
    edges.add(rng.choice(persons, second.size), second, "OFFICER_OF")
    sponsored = persons[rng.random(n_person) < 0.05]
    edges.add(sponsored, rng.choice(companies, sponsored.size, p=employer_weights), "SPONSORED_BY")

    next_index = n_background
    cell_workers: list[np.ndarray] = []
    cell_companies: list[np.ndarray] = []
    for c in range(n_cells):
        size = int(rng.integers(cell_size[0], cell_size[1] + 1))
        n_comp, n_addr, n_off = 1 + size // 20, 1 + size // 12, 1 + (size >= 20)
        n_work = size - n_comp - n_addr - n_off
        block = next_index + np.arange(size)
        next_index += size
        comp, addr = block[:n_comp], block[n_comp:n_comp + n_addr]
        off, work = block[n_comp + n_addr:n_comp + n_addr + n_off], block[n_comp + n_addr + n_off:]
        types += ["company"] * n_comp + ["address"] * n_addr + ["person"] * (n_off + n_work)
        cells += [f"cell{c:04d}"] * size
        edges.add(work, rng.choice(comp, n_work), "EMPLOYED_BY")
        twice = work[rng.random(n_work) < 0.3]
        edges.add(twice, rng.choice(comp, twice.size), "EMPLOYED_BY")
        edges.add(work, rng.choice(addr, n_work), "REGISTERED_AT")
        sponsored = work[rng.random(n_work) < 0.4]
        edges.add(sponsored, rng.choice(comp, sponsored.size), "SPONSORED_BY")
        for officer in off:
            edges.add(np.full(n_comp, officer), comp, "OFFICER_OF")
        edges.add(off, rng.choice(addr, n_off), "REGISTERED_AT")
        edges.add(comp, addr[np.arange(n_comp) % n_addr], "LOCATED_AT")
        # ties to the background
        moonlighting = work[rng.random(n_work) < 0.15]
        edges.add(moonlighting, rng.choice(companies, moonlighting.size, p=employer_weights), "EMPLOYED_BY")
        hub_based = comp[rng.random(n_comp) < 0.3]
        edges.add(hub_based, rng.choice(hubs, hub_based.size), "LOCATED_AT")
        outside = off[rng.random(n_off) < 0.5]
        edges.add(outside, rng.choice(companies, outside.size), "OFFICER_OF")
        cell_workers.append(work)
        cell_companies.append(comp)
    for c in range(n_cells if n_cells > 1 else 0):  # each cell shares one worker with the next
        edges.add(rng.choice(cell_workers[c]), rng.choice(cell_companies[(c + 1) % n_cells]), "EMPLOYED_BY")

    prefix = {"person": "P", "company": "C", "address": "A"}
    order = rng.permutation(next_index)
    entity_ids = np.array([f"{prefix[types[i]]}-{order[i]:07d}" for i in range(next_index)])
    specs = {spec.name: spec for spec in load_specs()}

    frames = []
    for frm, to, relation_type in edges.parts:
        spec = specs[_SOURCE_OF[relation_type]]
        frames.append(pl.DataFrame({"from_entity": entity_ids[frm], "to_entity": entity_ids[to]}).with_columns(
            type=pl.lit(relation_type), source=pl.lit(spec.name), partner=pl.lit(spec.partner),
            purpose=pl.lit(spec.purpose)))
    edge_table = pl.concat(frames).with_row_index("_n").with_columns(
        record_id=pl.col("_n").cast(pl.String),
    ).with_columns(
        relation_id=pl.concat_str("source", pl.lit("/"), "record_id", pl.lit("/"), "type"),
        from_mention=pl.concat_str("source", pl.lit("/"), "record_id", pl.lit("/from")),
        to_mention=pl.concat_str("source", pl.lit("/"), "record_id", pl.lit("/to")),
    )
    edge_table = edge_table.with_columns(
        *(pl.lit(None, dtype=dtype).alias(c) for c, dtype in (
            ("valid_from", pl.Date()), ("valid_to", pl.Date()), ("wage", pl.Float64()), ("hours", pl.Float64()),
            ("contract_type", pl.String()), ("role", pl.String()), ("permit_purpose", pl.String()),
            ("age_band", pl.String())))
    ).select(EDGE_COLUMNS).sort("relation_id")

    ends = pl.concat([
        edge_table.select(entity_id="from_entity", partner="partner", source="source", purpose="purpose"),
        edge_table.select(entity_id="to_entity", partner="partner", source="source", purpose="purpose"),
    ])
    provenance = ends.group_by("entity_id").agg(
        *(pl.col(c).unique().sort().alias(f"{c}s") for c in ("partner", "source", "purpose")),
        pl.len().cast(pl.Int64).alias("mention_count"))
    node_table = (
        pl.DataFrame({"entity_id": entity_ids, "entity_type": types})
        .join(provenance, on="entity_id", how="inner")  # an entity exists only through its records
        .with_columns(*(pl.lit(None, dtype=pl.Date() if c.endswith("_on") else pl.String()).alias(c)
                        for c in NODE_COLUMNS[6:]))
        .select(NODE_COLUMNS).sort("entity_id")
    )
    truth = (pl.DataFrame({"entity_id": entity_ids, "cell": pl.Series(cells, dtype=pl.String)})
             .join(node_table.select("entity_id"), on="entity_id", how="semi").sort("entity_id"))
    return node_table, edge_table, truth


def score_partition(truth: pl.DataFrame, communities: pl.DataFrame) -> dict[str, float]:
    """How well ``communities`` (``entity_id``, ``cluster_id``) recover the planted cells of ``truth``.

    * ``nmi``: normalised mutual information (arithmetic mean) between cell and community over
      the planted entities only: 1.0 when every cell is exactly one community of its own, lower
      when cells are split or merged with each other;
    * ``purity``: per cell, take the community holding most of its members; the share of that
      community's members that belong to the cell, averaged over cells: low when cells are
      swallowed by large communities of background entities;
    * ``coverage``: the share of the cell in that community, averaged over cells;
    * ``exact``: the share of cells with purity and coverage both at least 0.9.
    """
    sizes = communities.group_by("cluster_id").agg(community_size=pl.len())
    planted = (truth.filter(pl.col("cell").is_not_null())
               .join(communities.select("entity_id", "cluster_id"), on="entity_id", how="left")
               .with_columns(pl.col("cluster_id").fill_null(pl.col("entity_id")))
               .sort("entity_id"))
    best = (
        planted.group_by("cell", "cluster_id").agg(overlap=pl.len())
        .join(sizes, on="cluster_id", how="left").with_columns(pl.col("community_size").fill_null(1))
        .sort(["cell", "overlap", "cluster_id"], descending=[False, True, False])
        .group_by("cell", maintain_order=True).first()
        .join(planted.group_by("cell").agg(cell_size=pl.len()), on="cell")
        .with_columns(purity=pl.col("overlap") / pl.col("community_size"),
                      coverage=pl.col("overlap") / pl.col("cell_size"))
    )
    return {
        "nmi": round(float(normalized_mutual_info_score(planted.get_column("cell"),
                                                        planted.get_column("cluster_id"))), 6),
        "purity": round(float(best.get_column("purity").mean()), 6),
        "coverage": round(float(best.get_column("coverage").mean()), 6),
        "exact": round(float(((best.get_column("purity") >= 0.9) & (best.get_column("coverage") >= 0.9)).mean()), 6),
    }
