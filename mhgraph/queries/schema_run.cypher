// Uniqueness of run_id among :Run nodes, which record each loaded run's purpose.
//
// Runs on: neo4j only (constraint DDL; FalkorDB builds its index with index_run.cypher).
//
// Backs the MERGE in load_run.cypher. Idempotent (IF NOT EXISTS).
//
// Parameters: none
CREATE CONSTRAINT mhgraph_run_run_id IF NOT EXISTS
FOR (run:Run) REQUIRE run.run_id IS UNIQUE
