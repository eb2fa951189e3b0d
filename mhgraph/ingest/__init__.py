"""Ingest: delivered partner extracts in; ``mentions``, ``relations`` and ``quarantine`` out.

Source specs (``mhgraph/specs/*.toml``, see ``docs/source-specs.md``) say which file is
which extract and what each column holds. Every file is read in batches as text, its header
checked as a whole (missing, renamed, duplicated columns; a wrong partner's file; a
truncated file; sidecars and key fingerprints), then every value by its column kind. Bad
rows go to the quarantine table with file, row, column, a redacted value, a reason code and
a message; nothing is dropped silently. Plaintext in a pseudonymous column is refused.

>>> import tempfile, polars as pl
>>> from mhgraph.crypto import Key
>>> from mhgraph.pseudonymise import pseudonymise_frame, write_extract
>>> from mhgraph.spec import load_spec, SPEC_DIR
>>> spec = load_spec(SPEC_DIR / "ind_referenten.toml")
>>> key = Key(b"an example key, at least 16 bytes")
>>> plain = pl.DataFrame({"referent_id": ["R1", "R2"], "referent_kvk_nummer": ["12345678", "87654321"],
...     "referent_naam": ["Flex B.V.", "Oogst VOF"], "status": ["erkend", "geschorst"],
...     "datum_wijziging": [None, "31-02-2022"]})
>>> folder = tempfile.mkdtemp()
>>> _ = write_extract(pseudonymise_frame(plain, spec, key), spec, folder, key.fingerprint, "2025-01-01")
>>> result = ingest(folder)
>>> result.mentions["mention_id"].to_list()
['ind_referenten/R1/referent']
>>> result.quarantine.select("row_number", "column", "reason").rows()
[(2, 'datum_wijziging', 'bad_date')]
"""

from mhgraph.ingest.run import TABLES, Ingested, ingest
from mhgraph.ingest.schema import MENTION_SCHEMA, QUARANTINE_SCHEMA, RELATION_SCHEMA
from mhgraph.ingest.summary import FileReport, IngestSummary
from mhgraph.ingest.validate import MAX_FIELD_CHARS, REASONS

__all__ = [
    "MAX_FIELD_CHARS",
    "MENTION_SCHEMA",
    "QUARANTINE_SCHEMA",
    "REASONS",
    "RELATION_SCHEMA",
    "TABLES",
    "FileReport",
    "IngestSummary",
    "Ingested",
    "ingest",
]
