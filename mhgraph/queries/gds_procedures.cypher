// Which of the given Graph Data Science procedures this server offers.
//
// Runs on: neo4j only (Graph Data Science plugin).
//
// A missing name means the GDS plugin is not installed, or is too old: gds.leiden.* without
// the beta prefix needs GDS 2.5 or later. Without GDS, community detection runs embedded
// instead: mhgraph detects communities on the run's own tables (igraph Leiden-CPM, the
// reference method) and write_communities.cypher stores them, so read_cluster and the
// indicator statements work the same.
//
// Parameters:
//   $names  procedure names to look for
SHOW PROCEDURES YIELD name
WHERE name IN $names
RETURN collect(name) AS procedures
