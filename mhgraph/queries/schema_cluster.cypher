// Uniqueness of (run_id, cluster_id) among :Cluster nodes.
//
// Runs on: neo4j only (constraint DDL; FalkorDB builds its index with index_cluster.cypher).
//
// A cluster id such as C0001 is only meaningful within one run, so the key is the pair.
// Backs the MERGE in write_communities.cypher. Idempotent (IF NOT EXISTS).
//
// Parameters: none
CREATE CONSTRAINT mhgraph_cluster_run_cluster IF NOT EXISTS
FOR (c:Cluster) REQUIRE (c.run_id, c.cluster_id) IS UNIQUE
