// Project one run's graph into the GDS graph catalog, undirected and weighted, for Leiden.
//
// Runs on: neo4j only (Graph Data Science plugin).
//
// Cypher aggregation projection (GDS 2.4 or later) with the graph the embedded detection
// sees (mhgraph.detect.community_edge_arrays): only the run's own nodes and relations; one undirected relationship per linked pair, weighing the sum of the weights of
// the distinct relation types between the two; no self-loops; pairs of weight 0 left out.
// Every node of the run is projected, one without relations too (it comes with a null
// target), so every entity gets a community.
//
// Parameters:
//   $graph_name  name of the in-memory graph to create; drop it with gds_drop_graph.cypher
//   $run_id      id of the run to project
//   $weights     map relation type -> weight, e.g. mhgraph.detect.RELATION_WEIGHTS; it must
//                name every type in the run (a type it lacks adds no tie)
MATCH (source:Entity {run_id: $run_id})
OPTIONAL MATCH (source)-[r]-(other:Entity)
WHERE r.run_id = $run_id AND source.entity_id < other.entity_id
WITH source, other, collect(DISTINCT type(r)) AS types
WITH source, other, reduce(total = 0.0, t IN types | total + coalesce($weights[t], 0.0)) AS weight
WITH source, CASE WHEN weight > 0 THEN other END AS target, weight
WITH gds.graph.project(
  $graph_name,
  source,
  target,
  {relationshipProperties: {weight: weight}},
  {undirectedRelationshipTypes: ['*']}
) AS graph
RETURN graph.graphName AS graph_name, graph.nodeCount AS node_count,
       graph.relationshipCount AS relationship_count
