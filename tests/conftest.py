"""Test-wide settings: the installation key lives in a temporary folder, not in the user's
configuration folder, so that the tests leave nothing behind on the machine."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _installation_key_in_a_temporary_folder(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MHGRAPH_INSTALLATION_KEY_FILE", str(tmp_path_factory.mktemp("installation") / "installation.key"))
        yield
