// The purpose a run was loaded for (no row when the store has no such run).
//
// Every read checks it first: a reader sees a run only when its own purpose permits every
// source purpose the run's purpose permits.
//
// Parameters:
//   $run_id  id of the run
MATCH (run:Run {run_id: $run_id})
RETURN run.purpose AS purpose
