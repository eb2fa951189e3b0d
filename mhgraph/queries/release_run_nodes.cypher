// Remove a run from n.run_ids of up to a batch of the nodes it loaded.
//
// Run repeatedly until released = 0, after delete_run_relationships.cypher. A node another run
// also loaded keeps its place; a node no run holds any more is left with an empty run_ids for
// delete_orphan_nodes.cypher.
//
// Parameters:
//   $run_id      id of the run to remove
//   $batch_size  most nodes changed by one call
MATCH (n:Entity)
WHERE $run_id IN n.run_ids
WITH n LIMIT $batch_size
SET n.run_ids = [id IN n.run_ids WHERE id <> $run_id]
RETURN count(n) AS released
