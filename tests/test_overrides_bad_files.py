"""An overrides file an analyst's spreadsheet left empty or broken is refused with an error naming it."""

from __future__ import annotations

import pytest
from ingest_helpers import deliver, plain_payroll

from mhgraph.cli import main
from mhgraph.errors import InputError
from mhgraph.resolve.overrides import load_overrides


@pytest.mark.parametrize("content", [b"", b"\r\n  \r\n", b"\xef\xbb\xbf"])
def test_an_empty_overrides_file_is_refused(tmp_path, content):
    path = tmp_path / "overrides.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"overrides.csv: the overrides file is empty"):
        load_overrides(path)


def test_an_unreadable_overrides_file_is_refused_without_quoting_it(tmp_path):
    path = tmp_path / "overrides.csv"
    path.write_text('mention_a,mention_b,decision,reason\nx/1/p,x/2/p,cannot_link,"broers\nx/3/p,x/4/p\n')
    with pytest.raises(InputError, match=r"overrides.csv: could not read the overrides file") as caught:
        load_overrides(path)
    assert "broers" not in str(caught.value)


def test_the_resolve_command_reports_an_empty_overrides_file_as_bad_input(tmp_path, capsys):
    deliver(tmp_path / "in", "belastingdienst_loonaangifte", plain_payroll(6))
    assert main(["--quiet", "ingest", str(tmp_path / "in"), "--out", str(tmp_path / "run")]) == 0
    (tmp_path / "overrides.csv").write_bytes(b"")
    capsys.readouterr()
    status = main(["--quiet", "resolve", str(tmp_path / "run"), "--overrides", str(tmp_path / "overrides.csv")])
    error = capsys.readouterr().err
    assert status == 2 and "overrides.csv: the overrides file is empty" in error, error
