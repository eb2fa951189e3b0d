// Uniqueness of entity_id among all :Entity nodes (every Person, Company, Address, Permit).
//
// Relations can start or end at more than one label (HOLDS_PERMIT from a Company or a Person,
// LOCATED_AT from a Company or a Permit), so the edge loads find their endpoints through this
// index rather than through a per-label one. It also stops one entity_id from being loaded
// under two labels. Idempotent (IF NOT EXISTS).
//
// Parameters: none
CREATE CONSTRAINT mhgraph_entity_entity_id IF NOT EXISTS
FOR (n:Entity) REQUIRE n.entity_id IS UNIQUE
