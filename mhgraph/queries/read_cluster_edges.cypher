// Read the relations of a run between the entities of one of its clusters, in the shape of
// the `edges` table.
//
// Only relationships of the same run are returned (r.run_id), never those another run loaded
// between the same entities. properties holds every stored property of the relationship.
//
// Parameters:
//   $run_id      id of the run
//   $cluster_id  cluster id within that run, e.g. C0001
MATCH (c:Cluster {run_id: $run_id, cluster_id: $cluster_id})<-[:IN_CLUSTER]-(a:Entity)
MATCH (a)-[r]->(b:Entity)-[:IN_CLUSTER]->(c)
WHERE r.run_id = $run_id
RETURN r.relation_id AS relation_id, type(r) AS type, a.entity_id AS from_entity,
       b.entity_id AS to_entity, properties(r) AS properties
ORDER BY relation_id
