// Uniqueness of entity_id among :Permit nodes.
//
// Backs the MERGE in load_nodes_permit.cypher with an index, and keeps two loads from ever
// creating the same permit twice. Idempotent (IF NOT EXISTS).
//
// Parameters: none
CREATE CONSTRAINT mhgraph_permit_entity_id IF NOT EXISTS
FOR (n:Permit) REQUIRE n.entity_id IS UNIQUE
