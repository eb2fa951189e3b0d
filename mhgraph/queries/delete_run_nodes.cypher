// Delete up to a batch of a run's :Entity nodes.
//
// Run repeatedly until deleted = 0, after delete_run_relationships.cypher and
// delete_run_clusters.cypher (DETACH removes anything still attached). Other runs keep their
// own nodes of the same entities.
//
// Parameters:
//   $run_id      id of the run whose nodes go
//   $batch_size  most nodes deleted by one call
MATCH (n:Entity {run_id: $run_id})
WITH n LIMIT $batch_size
DETACH DELETE n
RETURN count(n) AS deleted
