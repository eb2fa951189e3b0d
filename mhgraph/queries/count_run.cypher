// Count the nodes and relationships a run has in the store.
//
// A node counts when n.run_id is the run; a relationship when r.run_id is the run (the
// IN_CLUSTER links of its clustering are not counted). Used to report a load and to check
// that loading the same run twice changes nothing.
//
// Parameters:
//   $run_id  id of the run to count
MATCH (n:Entity {run_id: $run_id})
OPTIONAL MATCH (n)-[r]->(:Entity)
WHERE r.run_id = $run_id
RETURN count(DISTINCT n) AS nodes, count(r) AS relationships
