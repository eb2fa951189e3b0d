// Uniqueness of entity_id among :Address nodes.
//
// Backs the MERGE in load_nodes_address.cypher with an index, and keeps two loads from ever
// creating the same address twice. Idempotent (IF NOT EXISTS).
//
// Parameters: none
CREATE CONSTRAINT mhgraph_address_entity_id IF NOT EXISTS
FOR (n:Address) REQUIRE n.entity_id IS UNIQUE
