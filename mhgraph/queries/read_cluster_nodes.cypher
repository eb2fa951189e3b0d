// Read the entities of one cluster of a run, in the shape of the `nodes` table.
//
// Only for a reader whose purpose may see the run: the run's purpose must be one of
// $readable_purposes (the caller derives them from the reader's purpose), otherwise nothing
// is returned. properties holds every stored property of the run's node (entity_type,
// partners, sources, purposes, mention_count, the context columns, run_id).
//
// Parameters:
//   $run_id             id of the run
//   $cluster_id         cluster id within that run, e.g. C0001
//   $readable_purposes  run purposes the reader's purpose permits reading
MATCH (run:Run {run_id: $run_id})
WHERE run.purpose IN $readable_purposes
MATCH (:Cluster {run_id: $run_id, cluster_id: $cluster_id})<-[:IN_CLUSTER]-(n:Entity)
RETURN n.entity_id AS entity_id, properties(n) AS properties
ORDER BY entity_id
