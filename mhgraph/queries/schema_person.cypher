// Uniqueness of entity_id among :Person nodes.
//
// Backs the MERGE in load_nodes_person.cypher with an index, and keeps two loads from ever
// creating the same person twice. Idempotent (IF NOT EXISTS).
//
// Parameters: none
CREATE CONSTRAINT mhgraph_person_entity_id IF NOT EXISTS
FOR (n:Person) REQUIRE n.entity_id IS UNIQUE
