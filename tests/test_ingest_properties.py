"""Property: any damage to any shipped layout is refused with a clear error or fully accounted for.

The damage model is :mod:`damage`; CI runs a modest number of examples per property, the
fuzzing run (``make fuzz``, ``benchmarks/fuzz_ingest.py``) many thousands.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from damage import CSV_LAYOUTS, SPECS, damages, ingest_holds, pseudonymise_holds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = 30
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(layout=st.sampled_from(CSV_LAYOUTS), ops=damages())
def test_a_damaged_delivered_extract_is_refused_or_every_row_is_accounted_for(layout, ops):
    with tempfile.TemporaryDirectory() as folder:
        ingest_holds(Path(folder), layout, ops)


@SETTINGS
@given(layout=st.sampled_from(sorted(SPECS)), ops=damages())
def test_what_pseudonymise_delivers_from_a_damaged_plaintext_extract_ingest_takes_in_whole(layout, ops):
    with tempfile.TemporaryDirectory() as folder:
        pseudonymise_holds(Path(folder), layout, ops)
