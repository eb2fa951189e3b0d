// Record one batch of a run's `communities` table as (:Entity)-[:IN_CLUSTER]->(:Cluster).
//
// One :Cluster node per (run_id, cluster_id), holding cluster_size, linked from the run's own
// nodes. Clusters belong to a run, so several runs can keep their own clustering of the same
// entities side by side. Run delete_run_clusters.cypher first when a run is re-clustered.
//
// Parameters:
//   $rows    list of maps {entity_id, cluster_id, cluster_size}
//   $run_id  id of the run the clustering belongs to
UNWIND $rows AS row
MATCH (n:Entity {run_id: $run_id, entity_id: row.entity_id})
MERGE (c:Cluster {run_id: $run_id, cluster_id: row.cluster_id})
SET c.cluster_size = row.cluster_size
MERGE (n)-[:IN_CLUSTER]->(c)
RETURN count(n) AS written
