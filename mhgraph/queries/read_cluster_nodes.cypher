// Read the entities of one cluster of a run, in the shape of the `nodes` table.
//
// properties holds every stored property of the node (entity_type, partners, sources,
// purposes, mention_count, the context columns, run_ids), dates as Date.
//
// Parameters:
//   $run_id      id of the run
//   $cluster_id  cluster id within that run, e.g. C0001
MATCH (:Cluster {run_id: $run_id, cluster_id: $cluster_id})<-[:IN_CLUSTER]-(n:Entity)
RETURN n.entity_id AS entity_id, properties(n) AS properties
ORDER BY entity_id
