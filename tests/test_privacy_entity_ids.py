"""Entity ids are keyed with the installation's own secret: stable across runs, not
recomputable from a guessed record id, and the secret is kept apart and never logged."""

from __future__ import annotations

import hashlib
import logging
import stat

import polars as pl

from mhgraph.crypto import INSTALLATION_KEY_ENV, installation_key, installation_key_path
from mhgraph.resolve import resolve
from mhgraph.resolve.cluster import entity_id

MENTIONS = pl.DataFrame({"mention_id": ["s/1/a", "s/2/a", "s/3/a"], "entity_type": ["address"] * 3,
                         "address_key": ["k1", "k1", "k2"]})
RELATIONS = pl.DataFrame(schema={"relation_id": pl.String, "from_mention": pl.String, "to_mention": pl.String,
                                 "relation_type": pl.String})


def test_an_entity_id_cannot_be_recomputed_by_hashing_a_guessed_mention_id():
    mention = "belastingdienst_loonaangifte/17/werknemer"
    unkeyed = "P-" + hashlib.sha256(mention.encode()).hexdigest()[:12]
    assert entity_id("P", mention) != unkeyed
    assert entity_id("P", mention) == "P-" + installation_key().digest("entity_id", mention).hex()[:12]


def test_ids_survive_a_rerun_and_differ_between_installations(tmp_path, monkeypatch):
    first = resolve(MENTIONS, RELATIONS).resolution.sort("mention_id")
    again = resolve(MENTIONS, RELATIONS).resolution.sort("mention_id")
    assert first["entity_id"].to_list() == again["entity_id"].to_list()
    assert first["entity_id"].n_unique() == 2
    monkeypatch.setenv(INSTALLATION_KEY_ENV, str(tmp_path / "elsewhere.key"))
    other = resolve(MENTIONS, RELATIONS).resolution.sort("mention_id")
    assert not set(other["entity_id"]) & set(first["entity_id"])
    # same partition of mentions into entities, only the names differ
    assert other["entity_id"].n_unique() == 2


def test_the_installation_key_is_made_once_readable_by_the_owner_only_and_never_logged(tmp_path, monkeypatch, caplog):
    path = tmp_path / "config" / "installation.key"
    monkeypatch.setenv(INSTALLATION_KEY_ENV, str(path))
    with caplog.at_level(logging.INFO, logger="mhgraph"):
        key = installation_key()
    assert installation_key_path() == path and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert key.fingerprint in caplog.text and secret not in caplog.text
    assert installation_key().fingerprint == key.fingerprint  # made once, then read


def test_without_a_setting_the_key_lives_in_the_users_configuration_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(INSTALLATION_KEY_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert installation_key_path() == tmp_path / "mhgraph" / "installation.key"


def test_keyed_digests_of_many_values_are_hmac_sha256_for_keys_of_every_length():
    """The digests of many values are built from HMAC's two keyed hash states: they must be
    HMAC-SHA-256 itself, for keys shorter than, as long as and longer than SHA-256's block."""
    import hmac

    from mhgraph.crypto import Key

    values = ["", "a", "belastingdienst_loonaangifte/17/werknemer", "é€" * 50]
    for secret in (b"s" * 16, bytes(range(64)), bytes(range(65)), bytes(range(256)) * 2):
        expected = [hmac.digest(secret, f"entity_id\x1f{value}".encode(), "sha256") for value in values]
        assert Key(secret).digests("entity_id", values) == expected
        assert [Key(secret).digest("entity_id", value) for value in values] == expected
