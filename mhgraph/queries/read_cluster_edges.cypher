// Read the relations of a run between the entities of one of its clusters, in the shape of
// the `edges` table.
//
// Only for a reader whose purpose may see the run (as read_cluster_nodes.cypher), and only
// relationships of that run (r.run_id). properties holds every stored property of the
// relationship.
//
// Parameters:
//   $run_id             id of the run
//   $cluster_id         cluster id within that run, e.g. C0001
//   $readable_purposes  run purposes the reader's purpose permits reading
MATCH (run:Run {run_id: $run_id})
WHERE run.purpose IN $readable_purposes
MATCH (c:Cluster {run_id: $run_id, cluster_id: $cluster_id})<-[:IN_CLUSTER]-(a:Entity)
MATCH (a)-[r]->(b:Entity)-[:IN_CLUSTER]->(c)
WHERE r.run_id = $run_id
RETURN r.relation_id AS relation_id, type(r) AS type, a.entity_id AS from_entity,
       b.entity_id AS to_entity, properties(r) AS properties
ORDER BY relation_id
