// Index on :Entity(run_id), to find all of one run's nodes.
//
// Runs on: neo4j only (FalkorDB, the test server, scans its few nodes instead: a second index
// on :Entity could make it look up the loads' (run_id, entity_id) keys by run).
//
// Counting (count_run.cypher), deleting (delete_run_*.cypher) and projecting
// (gds_project_run.cypher) a run match its nodes by run_id alone, which the composite
// constraint of schema_entity.cypher does not serve. Idempotent (IF NOT EXISTS).
//
// Parameters: none
CREATE INDEX mhgraph_entity_run_id IF NOT EXISTS
FOR (n:Entity) ON (n.run_id)
