// Run GDS Leiden on a projected run graph and stream each entity's community.
//
// Runs on: neo4j only (Graph Data Science plugin).
//
// GDS Leiden optimises modularity with resolution gamma; it has no CPM objective, which the
// embedded detection (igraph Leiden-CPM) uses. Raising gamma gives smaller communities and
// eases the resolution limit, but the result is not the same partition: compare before
// relying on it. theta is the randomness of the refinement step; with a fixed randomSeed and
// concurrency 1 the result is reproducible. The caller numbers the communities C0001, ...
// by size, as the `communities` table does.
//
// Parameters:
//   $graph_name   projected graph (gds_project_run.cypher)
//   $gamma        modularity resolution (GDS default 1.0; higher = smaller communities)
//   $theta        refinement randomness (GDS default 0.01)
//   $max_levels   most levels of aggregation (GDS default 10)
//   $tolerance    least modularity gain that counts as progress (GDS default 0.0001)
//   $random_seed  seed of the random steps
//   $concurrency  threads; 1 for a reproducible result
CALL gds.leiden.stream($graph_name, {
  relationshipWeightProperty: 'weight',
  gamma: $gamma,
  theta: $theta,
  maxLevels: $max_levels,
  tolerance: $tolerance,
  randomSeed: $random_seed,
  concurrency: $concurrency
})
YIELD nodeId, communityId
RETURN gds.util.asNode(nodeId).entity_id AS entity_id, communityId AS community
ORDER BY entity_id
