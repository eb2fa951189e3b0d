// Uniqueness of entity_id among :Company nodes.
//
// Backs the MERGE in load_nodes_company.cypher with an index, and keeps two loads from ever
// creating the same company twice. Idempotent (IF NOT EXISTS).
//
// Parameters: none
CREATE CONSTRAINT mhgraph_company_entity_id IF NOT EXISTS
FOR (n:Company) REQUIRE n.entity_id IS UNIQUE
