// Uniqueness of (run_id, entity_id) among :Entity nodes (every Person, Company, Address, Permit).
//
// Runs on: neo4j only (constraint DDL; FalkorDB builds its index with index_entity.cypher).
//
// Each run keeps its own node of an entity, so that a run's properties and purpose never
// overwrite another run's. The backing index is what the loads MERGE and MATCH through,
// whatever the label: relations can start or end at more than one label (HOLDS_PERMIT from a
// Company or a Person). It also stops one entity_id from being loaded twice in one run.
// Idempotent (IF NOT EXISTS).
//
// Parameters: none
CREATE CONSTRAINT mhgraph_entity_run_entity IF NOT EXISTS
FOR (n:Entity) REQUIRE (n.run_id, n.entity_id) IS UNIQUE
