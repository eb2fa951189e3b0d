// Index on :Entity(entity_id) for a server without constraint DDL.
//
// Runs on: falkordb only (the test server; on Neo4j schema_entity.cypher creates the
// constraint and its index). FalkorDB has no IF NOT EXISTS here: it answers an index that is
// already there with an error, which the caller takes as done.
//
// Without it the loads MERGE and MATCH entities by entity_id within a run by scanning every
// node.
//
// Parameters: none
CREATE INDEX FOR (n:Entity) ON (n.entity_id)
