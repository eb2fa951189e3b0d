// Run GDS Leiden on a projected run graph and write the community id onto the nodes.
//
// Runs on: neo4j only (Graph Data Science plugin).
//
// For analysts who look at the store directly (Neo4j Browser, Bloom): the raw GDS community
// id lands in the node property named by write_property, the intermediate levels too when
// asked (as a list), on the run's own nodes; the next write overwrites it. The record of a
// run's clustering that reads use is write_communities.cypher. Same objective and
// parameters as gds_leiden_stream.cypher.
//
// Parameters:
//   $graph_name                        projected graph (gds_project_run.cypher)
//   $write_property                    node property to write the community id to
//   $include_intermediate_communities  also write every level's community id (list)
//   $gamma                             modularity resolution (GDS default 1.0)
//   $theta                             refinement randomness (GDS default 0.01)
//   $max_levels                        most levels of aggregation (GDS default 10)
//   $tolerance                         least modularity gain that counts (GDS default 0.0001)
//   $random_seed                       seed of the random steps
//   $concurrency                       threads; 1 for a reproducible result
CALL gds.leiden.write($graph_name, {
  writeProperty: $write_property,
  includeIntermediateCommunities: $include_intermediate_communities,
  relationshipWeightProperty: 'weight',
  gamma: $gamma,
  theta: $theta,
  maxLevels: $max_levels,
  tolerance: $tolerance,
  randomSeed: $random_seed,
  concurrency: $concurrency
})
YIELD communityCount, ranLevels, modularity, didConverge, nodePropertiesWritten
RETURN communityCount AS community_count, ranLevels AS ran_levels, modularity,
       didConverge AS did_converge, nodePropertiesWritten AS node_properties_written
