// Index on :Run(run_id) for a server without constraint DDL.
//
// Runs on: falkordb only (the test server; on Neo4j schema_run.cypher creates the
// constraint and its index). FalkorDB has no IF NOT EXISTS here: it answers an index that is
// already there with an error, which the caller takes as done.
//
// Without it load_run.cypher and every read find a run by run_id by scanning every node.
//
// Parameters: none
CREATE INDEX FOR (run:Run) ON (run.run_id)
