// Delete up to a batch of :Entity nodes that no run holds any more (empty run_ids).
//
// Run repeatedly until deleted = 0, after release_run_nodes.cypher. Such a node has no
// relationship of any run left: every relationship belongs to a run that also loaded both its
// endpoints. DETACH removes a stray IN_CLUSTER, if any.
//
// Parameters:
//   $batch_size  most nodes deleted by one call
MATCH (n:Entity)
WHERE size(n.run_ids) = 0
WITH n LIMIT $batch_size
DETACH DELETE n
RETURN count(n) AS deleted
