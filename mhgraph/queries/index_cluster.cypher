// Index on :Cluster(cluster_id) for a server without constraint DDL.
//
// Runs on: falkordb only (the test server; on Neo4j schema_cluster.cypher creates the
// constraint and its index). FalkorDB has no IF NOT EXISTS here: it answers an index that is
// already there with an error, which the caller takes as done.
//
// Without it write_communities.cypher and the reads find a run's cluster by cluster_id by
// scanning every node.
//
// Parameters: none
CREATE INDEX FOR (c:Cluster) ON (c.cluster_id)
