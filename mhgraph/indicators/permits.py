"""Control through permits: one operator behind several permits, moves between municipalities
(the waterbed effect) and returns after a refusal.

A person is *linked* to a permit as its holder (HOLDS_PERMIT), its manager (MANAGES), or as an
officer (OFFICER_OF) of the company holding it, when the office was in force on the day the
permit was decided (:func:`permit_links`).

>>> import datetime as dt
>>> import polars as pl
>>> D = dt.date
>>> nodes = pl.DataFrame({"entity_id": ["L1", "L2", "P-op", "P-front", "A-home"],
...     "entity_type": ["permit", "permit", "person", "person", "address"],
...     "permit_type": ["massagesalon", "massagesalon", None, None, None],
...     "permit_status": ["ingetrokken", "verleend", None, None, None],
...     "decided_on": [D(2023, 1, 10), D(2023, 9, 1), None, None, None],
...     "municipality": ["Arnhem", "Emmen", None, None, None]})
>>> edges = pl.DataFrame({"relation_id": ["g1", "g2", "b1", "b2"],
...     "type": ["MANAGES", "HOLDS_PERMIT", "REGISTERED_AT", "REGISTERED_AT"],
...     "from_entity": ["P-op", "P-front", "P-op", "P-front"], "to_entity": ["L1", "L2", "A-home", "A-home"],
...     "valid_from": [D(2023, 1, 10), D(2023, 9, 1), D(2020, 1, 1), D(2022, 6, 1)],
...     "partner": ["gemeente_arnhem", "gemeente_emmen", "belastingdienst", "belastingdienst"]})
>>> print(waterbed_move(nodes, edges)["reason"][0])
New permit (massagesalon, Emmen, decided 2023-09-01) follows an earlier permit in Arnhem (ingetrokken, decided 2023-01-10) whose operator P-op does not appear on the new one but is linked to it: lives at the home address of its holder or manager (within 1095 days).
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from mhgraph.indicators.registry import rule
from mhgraph.indicators.tables import FLAT, PathSearch, co_residents, of_type, overlaps, with_period

__all__ = ["holder_groups", "link_to_earlier_refusal", "permit_links", "permits_linked_to_operator", "waterbed_move"]


def permit_links(nodes: pl.DataFrame, edges: pl.DataFrame, permit_types: Collection[str]) -> pl.DataFrame:
    """Persons linked to permits of ``permit_types``: ``person``, ``permit``, ``role`` (holder,
    manager or officer), ``path`` (relation ids), and of the permit its ``holder`` (the holding
    person or company, null if none is on record), ``controllers`` (the holding person, or the
    officers of the holding company in force on the decision day, else the company itself),
    ``permit_type``, ``permit_status``,
    ``decided_on`` and ``municipality`` (its own, else named after its register's partner). An officer counts
    only when the office was in force on the decision day (unknown dates do not exclude)."""
    permits = (nodes.filter((pl.col("entity_type") == "permit") & pl.col("permit_type").is_in(list(permit_types)))
               .select(permit="entity_id", permit_type="permit_type", permit_status="permit_status",
                       decided_on="decided_on",
                       municipality=pl.coalesce("municipality", pl.col("partners").list.first()
                                                .str.strip_prefix("gemeente_").str.to_titlecase())))
    persons = nodes.filter(pl.col("entity_type") == "person").select(person="entity_id")
    held = of_type(edges, "HOLDS_PERMIT").select(holder="from_entity", permit="to_entity", held="relation_id")
    direct = (
        of_type(edges, "HOLDS_PERMIT", "MANAGES")
        .select(person="from_entity", permit="to_entity", path=pl.concat_list("relation_id"),
                role=pl.when(pl.col("type") == "MANAGES").then(pl.lit("manager")).otherwise(pl.lit("holder")))
        .join(persons, on="person", how="semi")
    )
    offices = with_period(of_type(edges, "OFFICER_OF")).select(
        person="from_entity", company="to_entity", office="relation_id", since="start", until="end")
    in_office = (
        offices.join(held.rename({"holder": "company"}), on="company")
        .join(permits.select("permit", "decided_on"), on="permit")
        .filter(pl.col("decided_on").is_null()
                | ((pl.col("since") <= pl.col("decided_on")) & (pl.col("until") >= pl.col("decided_on"))))
    )
    via_company = in_office.select("person", "permit", path=pl.concat_list("office", "held"), role=pl.lit("officer"))
    holders = (
        held.join(in_office.select("permit", holder="company", controller="person"), on=["permit", "holder"],
                  how="left")
        .with_columns(controller=pl.coalesce("controller", "holder"))
        .group_by("permit").agg(pl.col("holder").min(), controllers=pl.col("controller").unique().sort())
    )
    return (pl.concat([direct, via_company]).join(permits, on="permit")
            .join(holders, on="permit", how="left"))


def holder_groups(controllers: list[list[str]]) -> int:
    """How many independent holders: holders whose controllers (a holding person, or the officers
    of a holding company) overlap are one group, as a chain of companies of one owner is.

    >>> holder_groups([["P-owner"], ["P-owner", "P-partner"], ["P-front"]])
    2
    """
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for group in controllers:
        for member in group[1:]:
            parent[root(member)] = root(group[0])
    return len({root(group[0]) for group in controllers if group})


@rule("permits_linked_to_operator")
def permits_linked_to_operator(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_permits: int,
                               min_municipalities: int, min_holders: int, window_days: int,
                               permit_types: tuple[str, ...]) -> pl.DataFrame:
    """A person is linked (:func:`permit_links`) to at least ``min_permits`` permits of
    ``permit_types`` in at least ``min_municipalities`` municipalities, held by at least
    ``min_holders`` different holders, all decided within ``window_days`` of the first of them
    (a permit without a decision date fits any window). Horeca is left out by default: hotel and
    restaurant chains legitimately hold many permits; one chain company holding permits in
    several towns is one holder. Focus: the person.
    """
    links = permit_links(nodes, edges, permit_types)
    per_permit = links.group_by("person", "permit").agg(
        pl.col("decided_on").first(), pl.col("municipality").first(), pl.col("controllers").first(),
        pl.col("permit_type").first(), pl.col("path").list.explode(**FLAT))
    windows = (
        per_permit.filter(pl.col("decided_on").is_not_null()).select("person", opens="decided_on").unique()
        .join(per_permit, on="person")
        .filter(pl.col("decided_on").is_null() | ((pl.col("decided_on") >= pl.col("opens"))
                & ((pl.col("decided_on") - pl.col("opens")).dt.total_days() <= window_days)))
    )
    undated = per_permit.group_by("person").agg(undated=pl.col("decided_on").is_null().all())
    windows = pl.concat([windows, per_permit.join(undated.filter("undated"), on="person", how="semi")
                         .with_columns(opens=pl.lit(None, dtype=pl.Date)).select(windows.columns)])
    per_window = (
        windows.group_by("person", "opens").agg(
            permits=pl.col("permit").n_unique(), municipalities=pl.col("municipality").drop_nulls().unique().sort(),
            controllers=pl.col("controllers").drop_nulls(), first=pl.col("decided_on").min(),
            last=pl.col("decided_on").max(), types=pl.col("permit_type").value_counts(sort=True),
            evidence=pl.col("path").list.explode(**FLAT))
        .with_columns(municipalities_count=pl.col("municipalities").list.len(),
                      holders=pl.col("controllers").map_elements(lambda sets: holder_groups([list(g) for g in sets]),
                                                                 return_dtype=pl.Int64))
        .filter((pl.col("permits") >= min_permits) & (pl.col("municipalities_count") >= min_municipalities)
                & (pl.col("holders") >= min_holders))
    )
    return (
        per_window.sort(["person", "permits", "opens"], descending=[False, True, False], nulls_last=True)
        .group_by("person", maintain_order=True).first()
        .with_columns(types=pl.col("types").map_elements(
            lambda counts: ", ".join(f"{c['permit_type']} x{c['count']}"
                                     for c in sorted(counts, key=lambda c: c["permit_type"])),
            return_dtype=pl.String))
        .rename({"person": "focus_entity"})
    )


@rule("waterbed_move")
def waterbed_move(nodes: pl.DataFrame, edges: pl.DataFrame, *, max_days: int, max_residents: int,
                  permit_types: tuple[str, ...]) -> pl.DataFrame:
    """A later permit in another municipality, decided within ``max_days`` after an earlier one,
    held by a different holder, whose holders and managers do not include the earlier permit's
    operator (its holder, manager or officer of its holding company) — while the operator is
    linked to it through a straw: living at the home of its holder or manager (a home of at most
    ``max_residents`` residents at once), sitting with them as officer of one company, or being
    an officer of its holding company. Focus: the new permit.
    """
    # Start from the links a move needs (operator -> straw -> face -> later permit, or operator ->
    # office -> later permit), then look up the operator's earlier permits: the join is bounded by
    # the links, never by every pair of permits.
    links = permit_links(nodes, edges, permit_types)
    earlier = links.select(operator="person", earlier="permit", earlier_path="path",
                           earlier_municipality="municipality", earlier_status="permit_status",
                           earlier_decided="decided_on", earlier_controllers="controllers")
    later = links.select("permit", "person", "role", "path", "permit_type", "municipality", "controllers",
                         decided="decided_on")
    faces = later.filter(pl.col("role") != "officer").select("permit", face="person", face_path="path")
    operators = earlier.select("operator").unique()
    offices = with_period(of_type(edges, "OFFICER_OF")).select(
        person="from_entity", company="to_entity", office="relation_id", start="start", end="end")
    partners = (
        offices.join(operators, left_on="person", right_on="operator", how="semi")
        .join(offices.join(faces, left_on="person", right_on="face", how="semi"), on="company", suffix="_other")
        .filter((pl.col("person") != pl.col("person_other")) & overlaps("start", "end", "start_other", "end_other"))
        .select("person", other="person_other", evidence=pl.concat_list("office", "office_other"))
    )
    straws = pl.concat([
        co_residents(edges, max_residents, operators.rename({"operator": "person"})).select(
            "person", "other", "evidence", link=pl.lit("lives at the home address of its holder or manager")),
        partners.with_columns(link=pl.lit("sits with its holder or manager as officer of one company")),
    ]).rename({"person": "operator", "other": "face"})
    candidates = pl.concat([
        straws.join(faces, on="face").select("permit", "operator", "link",
                                             evidence=pl.concat_list("face_path", "evidence")),
        later.filter(pl.col("role") == "officer").select(
            "permit", operator="person", link=pl.lit("officer of the company that holds it"), evidence="path"),
    ]).join(faces.rename({"face": "operator"}), on=["permit", "operator"], how="anti")
    permit_facts = later.select("permit", "permit_type", "municipality", "controllers", "decided").unique("permit")
    moves = (
        candidates.join(permit_facts, on="permit").join(earlier, on="operator")
        .filter((pl.col("decided") > pl.col("earlier_decided"))
                & (pl.col("municipality") != pl.col("earlier_municipality"))
                & ((pl.col("decided") - pl.col("earlier_decided")).dt.total_days() <= max_days)
                & (pl.col("controllers").list.set_intersection("earlier_controllers").list.len() == 0)
                .fill_null(True))
    )
    found = moves.select("permit", "operator", "earlier", "link",
                         evidence=pl.concat_list("earlier_path", "evidence"))
    facts = moves.select("permit", "operator", "earlier", "permit_type", "municipality", "decided",
                         "earlier_municipality", "earlier_status", "earlier_decided").unique(["permit", "operator", "earlier"])
    return (
        found.group_by("permit", "operator", "earlier").agg(link=pl.col("link").unique().sort().str.join("; "),
                                                       evidence=pl.col("evidence").list.explode(**FLAT))
        .join(facts, on=["permit", "operator", "earlier"])
        .sort(["permit", "earlier_decided", "operator", "earlier"], descending=[False, True, False, False])
        .group_by("permit", maintain_order=True).first()
        .rename({"permit": "focus_entity"})
    )


_REFUSED = ("geweigerd", "ingetrokken")
_SPONSOR_FLAGS = ("geschorst", "ingetrokken")


def _allowed(purposes: Collection[str] | None, *needed: str) -> bool:
    return purposes is None or all(p in purposes for p in needed)


@rule("link_to_earlier_refusal", whole_graph="the partners that deliver for a purpose are read from every relation")
def link_to_earlier_refusal(nodes: pl.DataFrame, edges: pl.DataFrame, *, max_hops: int, max_degree: int,
                            max_days: int, via_types: tuple[str, ...],
                            allowed_purposes: Collection[str] | None = None,
                            between_levels: dict | None = None) -> pl.DataFrame:
    """A *new applicant* lies within ``max_hops`` relations of an earlier *flag*.

    Flags, each usable only when ``allowed_purposes`` (the run's purposes; ``None`` = all) allow
    the source that states it:

    * a permit refused or revoked (``permit_status`` geweigerd/ingetrokken) — needs
      ``administrative_supervision``; dated by its ``decided_on``;
    * a permit whose Bibob outcome is ``ernstige mate`` — needs ``bibob`` as well (Wet Bibob
      art. 28 limits who may use a Bibob advice);
    * a sponsor whose recognition was suspended or revoked (``sponsor_status``
      geschorst/ingetrokken) — needs ``immigration_supervision``; dated by ``sponsor_status_on``.

    New applicants: a permit applied for or granted (aangevraagd/verleend) with a decision date
    after the flag's, or a recognised sponsor (erkend) registered at the KvK after the flag's date,
    in both cases at most ``max_days`` later. The path runs over relations of ``via_types`` whose
    purpose is allowed, and never *through* an entity with more than ``max_degree`` neighbours
    (:func:`~mhgraph.indicators.tables.shortest_paths`). A step from one person through an address
    to another (REGISTERED_AT, REGISTERED_AT) counts only while both registrations overlap in time
    (unknown dates do not exclude): a home ties two people while they both live there, not a
    tenant who moved in after the other left. The search applies this test to every candidate
    step, so any shortest path whose steps pass counts — also over a person's second registration
    at the same flat, or another flat, when the first one found lies in another period. Each applicant is reported once, with its
    nearest flag (ties: lowest flag id). Focus: the new permit or sponsor. Evidence: the path, and
    the flag's and the applicant's own register rows where they are permits; the partners named are
    those of the evidence and those stating a sponsor's recognition, which is no relation of its own
    (:func:`_register_records`), never another partner that merely knows the flag or the applicant.
    ``between_levels``: a dict kept while the rule runs at its levels (:func:`~mhgraph.indicators.graded_hits`),
    in which the search is kept and grown from one ``max_hops`` to the next, not walked again.
    """
    walkable = of_type(edges, *via_types, columns=["relation_id", "from_entity", "to_entity", "purpose"])
    if allowed_purposes is not None:
        walkable = walkable.filter(pl.col("purpose").is_in(list(allowed_purposes)))

    def has(purpose: str) -> pl.Expr:
        return pl.col("purposes").list.contains(purpose).fill_null(False)

    permit_register, sponsor_register = ["administrative_supervision"], ["immigration_supervision"]
    flag_rules = []
    if _allowed(allowed_purposes, "administrative_supervision"):
        flag_rules.append((pl.col("permit_status").is_in(list(_REFUSED)) & has("administrative_supervision"),
                           pl.format("permit {} on {}", pl.col("permit_status"), pl.col("decided_on")), "decided_on",
                           permit_register))
    if _allowed(allowed_purposes, "administrative_supervision", "bibob"):
        flag_rules.append(((pl.col("bibob_outcome") == "ernstige mate") & has("administrative_supervision"),
                           pl.format("permit with Bibob outcome 'ernstige mate' decided on {}", pl.col("decided_on")),
                           "decided_on", permit_register))
    if _allowed(allowed_purposes, "immigration_supervision"):
        flag_rules.append((pl.col("sponsor_status").is_in(list(_SPONSOR_FLAGS)) & has("immigration_supervision"),
                           pl.format("sponsor recognition {} on {}", pl.col("sponsor_status"),
                                     pl.col("sponsor_status_on")), "sponsor_status_on", sponsor_register))
    if not flag_rules:
        return pl.DataFrame()
    flags = (
        pl.concat([nodes.filter(test.fill_null(False)).select(origin="entity_id", flag=label, flag_day=pl.col(day),
                                                              origin_purposes=pl.lit(register))
                   for test, label, day, register in flag_rules])
        .filter(pl.col("flag_day").is_not_null())
        .sort("origin", "flag_day", "flag")
        .group_by("origin", maintain_order=True).agg(pl.col("flag").str.join("; "), pl.col("flag_day").min(),
                                                     pl.col("origin_purposes").list.explode(**FLAT).unique().sort())
    )
    targets = pl.concat([
        nodes.filter(pl.col("permit_status").is_in(["aangevraagd", "verleend"]))
        .select(target="entity_id", target_day="decided_on", target_label=pl.format(
            "permit {} on {}", pl.col("permit_status"), pl.col("decided_on")), target_purposes=pl.lit(permit_register)),
        nodes.filter(pl.col("sponsor_status") == "erkend")
        .select(target="entity_id", target_day="registered_on", target_label=pl.format(
            "recognised sponsor registered on {}", pl.col("registered_on")),
            target_purposes=pl.lit([*sponsor_register, "company_register"])),
    ]).filter(pl.col("target_day").is_not_null())
    homes = with_period(of_type(edges, "REGISTERED_AT", columns=["relation_id", "valid_from", "valid_to"]))
    searches = {} if between_levels is None else between_levels
    searched = (tuple(via_types), max_degree, None if allowed_purposes is None else tuple(sorted(allowed_purposes)))
    if searched not in searches:
        searches[searched] = PathSearch(flags.get_column("origin"), walkable, max_degree, together=homes)
    reached = searches[searched].paths(max_hops)
    found = (
        reached.join(flags, on="origin").join(targets, on="target")
        .filter((pl.col("target_day") > pl.col("flag_day")) & (pl.col("target") != pl.col("origin"))
                & ((pl.col("target_day") - pl.col("flag_day")).dt.total_days() <= max_days))
        .with_columns(hops=pl.col("path").list.len(), _key=pl.col("path").list.join("|"))
        .sort("target", "hops", "origin", "_key")
        .group_by("target", maintain_order=True).agg(
            pl.col("origin").first(), pl.col("flag").first(), pl.col("path").first(), pl.col("hops").first(),
            pl.col("target_label").first(), pl.col("origin_purposes").first(), pl.col("target_purposes").first(),
            flags=pl.col("origin").n_unique())
    )
    if found.is_empty():
        return found
    path_types = (found.select("target", relation_id="path").explode("relation_id")
                  .join(edges.select("relation_id", "type"), on="relation_id", how="left")
                  .group_by("target", maintain_order=True).agg(path_types=pl.col("type").str.join(" - ")))
    # the few distinct pairs first, then as text: not the text of every edge's pair
    delivering = edges.select("partner", "purpose").unique().select(pl.col("partner", "purpose").cast(pl.String)
                                                                    ).drop_nulls().unique()
    origin_records, target_records = (
        _register_records(found.select("target", entity=entity, purpose=purpose), nodes, edges, delivering)
        for entity, purpose in (("origin", "origin_purposes"), ("target", "target_purposes")))
    return (
        found.join(path_types, on="target")
        .join(origin_records, on="target", how="left").join(target_records, on="target", how="left", suffix="_target")
        .select(focus_entity="target",
                evidence=pl.col("path").list.concat(pl.col("records").fill_null([]))
                .list.concat(pl.col("records_target").fill_null([])),
                extra_partners=pl.col("stating").fill_null([]).list.concat(pl.col("stating_target").fill_null([])),
                target_label="target_label", hops="hops", origin="origin", flag="flag", path_types="path_types",
                more_flags=pl.when(pl.col("flags") > 1).then(pl.format("; {} earlier flags in reach", "flags"))
                .otherwise(pl.lit("")))
    )


def _register_records(stated: pl.DataFrame, nodes: pl.DataFrame, edges: pl.DataFrame,
                      delivering: pl.DataFrame) -> pl.DataFrame:
    """Per ``target``: the ``records`` of its ``entity`` (a flag or a new applicant) when that is a
    permit (every relation of a permit is its own register row: holder, manager, location), and the
    ``stating`` partners: those of the entity that deliver (``delivering``: ``partner``, ``purpose``)
    for a register ``purpose`` the finding rests on, also when the fact is an attribute without a
    relation of its own (a sponsor's recognition)."""
    permits = nodes.filter(pl.col("entity_type") == "permit").select(entity="entity_id")
    stated_permits = stated.join(permits, on="entity", how="semi")
    named = stated_permits.get_column("entity").implode()
    # only the relations of the stated permits, before they are paired with them: not two rows per relation
    touching = pl.concat([edges.filter(pl.col(end).is_in(named)).select("relation_id", entity=end)
                          for end in ("from_entity", "to_entity")])
    records = (stated_permits.join(touching, on="entity")
               .group_by("target").agg(records=pl.col("relation_id").unique().sort()))
    stating = (stated.explode("purpose").join(nodes.select(entity="entity_id", partner="partners").explode("partner"),
                                              on="entity")
               .join(delivering, on=["partner", "purpose"])
               .group_by("target").agg(stating=pl.col("partner").unique().sort()))
    return records.join(stating, on="target", how="full", coalesce=True)
