// Indicator crowded_address, version 1: many distinct persons registered at one address at
// the same time.
//
// The Cypher form of mhgraph.indicators.crowded_address, over the REGISTERED_AT relations of
// one run (partners IND, Belastingdienst, KvK). A registration without valid_from counts from
// the beginning of time, one without valid_to as still running; both ends are included. The
// number present can only rise at the start of a registration, so each start is tried as the
// day; the peak is the day with the most distinct persons, the earliest such day (an unknown
// start first), and the evidence is the registrations in force on it. One row per address
// whose peak reaches min_persons.
//
// Parameters:
//   $run_id       id of the run whose relations are read
//   $min_persons  fewest distinct persons present at once that fires the indicator
MATCH (address:Address)<-[r:REGISTERED_AT]-(person:Person)
WHERE r.run_id = $run_id
WITH address, collect({person: person.entity_id, relation_id: r.relation_id,
                       partner: r.partner, starts: r.valid_from, ends: r.valid_to}) AS stays
WHERE size(stays) >= $min_persons
UNWIND stays AS candidate
WITH address, candidate.starts AS day,
     [s IN stays WHERE (s.starts IS NULL OR (candidate.starts IS NOT NULL AND s.starts <= candidate.starts))
                   AND (s.ends IS NULL OR candidate.starts IS NULL OR s.ends >= candidate.starts)] AS present
UNWIND present AS stay
WITH address, day, count(DISTINCT stay.person) AS persons,
     collect(DISTINCT stay.relation_id) AS evidence, collect(DISTINCT stay.partner) AS partners
WHERE persons >= $min_persons
WITH address, persons, day, evidence, partners
ORDER BY persons DESC, day IS NOT NULL, day ASC
WITH address, collect({persons: persons, day: day, evidence: evidence, partners: partners})[0] AS peak
OPTIONAL MATCH (address)-[:IN_CLUSTER]->(cluster:Cluster {run_id: $run_id})
RETURN address.entity_id AS focus_entity, cluster.cluster_id AS cluster_id,
       peak.persons AS persons, peak.day AS day, peak.evidence AS evidence,
       peak.partners AS partners
ORDER BY focus_entity
