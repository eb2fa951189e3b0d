// Drop a projected graph from the GDS graph catalog, if it is there.
//
// Runs on: neo4j only (Graph Data Science plugin).
//
// Parameters:
//   $graph_name  name of the projected graph
CALL gds.graph.drop($graph_name, false)
YIELD graphName
RETURN graphName AS graph_name
