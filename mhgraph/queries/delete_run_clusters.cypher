// Delete a run's :Cluster nodes and the IN_CLUSTER relationships into them.
//
// Used before a run's communities are written again, and when a run is deleted. Entities and
// their relations are untouched.
//
// Parameters:
//   $run_id  id of the run whose clusters go
MATCH (c:Cluster {run_id: $run_id})
DETACH DELETE c
RETURN count(c) AS deleted
