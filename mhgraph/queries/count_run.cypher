// Count the nodes and relationships a run has in the store.
//
// A node counts when the run is in n.run_ids; a relationship when r.run_id is the run. Used
// to report a load and to check that loading the same run twice changes nothing.
//
// Parameters:
//   $run_id  id of the run to count
MATCH (n:Entity)
WHERE $run_id IN n.run_ids
OPTIONAL MATCH (n)-[r]->(:Entity)
WHERE r.run_id = $run_id
RETURN count(DISTINCT n) AS nodes, count(r) AS relationships
