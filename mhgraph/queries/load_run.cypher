// Record a run and the purpose it is loaded for, or find it if it is there already.
//
// Returns the purpose the store holds for the run: the caller refuses to load more of a run
// under another purpose than the one it was first loaded with.
//
// Parameters:
//   $run_id   id of the run
//   $purpose  the run's purpose (mhgraph.manifest.RUN_PURPOSES), as in its manifest
MERGE (run:Run {run_id: $run_id})
ON CREATE SET run.purpose = $purpose
RETURN run.purpose AS purpose
