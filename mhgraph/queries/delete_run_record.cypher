// Delete a run's :Run node, last, once its clusters, relationships and nodes are gone.
//
// Parameters:
//   $run_id  id of the run
MATCH (run:Run {run_id: $run_id})
DELETE run
RETURN count(run) AS deleted
