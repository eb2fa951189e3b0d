"""Keyed encodings of identifiers: the only form in which they reach the engine.

* exact identifiers (BSN, V-number, KvK number, wage-tax number, address key) become a keyed
  hash: HMAC-SHA-256 with a per-identifier domain, truncated to 128 bits (32 hex digits);
* fuzzy fields (names, dates of birth) become a keyed Bloom-filter encoding of their padded
  bigrams (Schnell, Bachteler & Reiher 2009), compared by Dice similarity;
* match keys combine normalised fields into one keyed hash that is tolerant of the usual
  noise (swapped name order, swapped day and month, initials).

The key is shared by the partners and held apart from the data; the engine never needs it.
A key fingerprint travels with every extract so that extracts made with different keys are
refused.

>>> key = Key(b"example key of at least sixteen bytes")
>>> keyed_hash(key, "bsn", "123456782") == keyed_hash(key, "bsn", "123456782")
True
>>> a = bloom_encode(key, "family_name", "jansen")
>>> round(dice(a, bloom_encode(key, "family_name", "janssen")), 2) > 0.8
True
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
from pathlib import Path

import numpy as np

from mhgraph import normalise
from mhgraph.errors import MhgraphError

__all__ = [
    "BLOOM_BITS",
    "HARDENINGS",
    "Key",
    "KeyError_",
    "address_keys",
    "bloom_encode",
    "dice",
    "installation_key",
    "keyed_hash",
    "keygen",
    "load_key",
    "person_match_keys",
]

BLOOM_BITS = 256
BLOOM_HASHES = 8
HASH_HEX_DIGITS = 32
BLOOM_B64_LENGTH = 44  # base64 of BLOOM_BITS / 8 bytes, with padding
KEY_ENV = "MHGRAPH_KEY"
INSTALLATION_KEY_ENV = "MHGRAPH_INSTALLATION_KEY_FILE"
_MIN_KEY_BYTES = 16

log = logging.getLogger("mhgraph.crypto")


class KeyError_(MhgraphError, ValueError):
    """A pseudonymisation key is missing or unusable."""


class Key:
    """A secret pseudonymisation key. Its text never appears in ``repr``, logs or output."""

    __slots__ = ("_secret", "_positions")

    def __init__(self, secret: bytes):
        if len(secret) < _MIN_KEY_BYTES:
            raise KeyError_(f"the key must be at least {_MIN_KEY_BYTES} bytes long")
        self._secret = secret
        self._positions: dict[tuple[str, str], tuple[int, ...]] = {}

    @property
    def fingerprint(self) -> str:
        """A public 16-hex-digit name of the key; reveals nothing about the key itself."""
        return hmac.new(self._secret, b"mhgraph key fingerprint v1", hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Key(fingerprint={self.fingerprint})"

    def for_purpose(self, run_purpose: str) -> Key:
        """The delivery key for one run purpose, derived from this shared key.

        Partners pseudonymise an extract with the key of the run purpose it is delivered for,
        never with the shared key itself: pseudonyms made for one purpose do not link to those
        made for another, and only a holder of the shared key can derive a second purpose's key
        (see ``docs/privacy.md``).

        >>> shared = Key(b"example key of at least sixteen bytes")
        >>> a, b = shared.for_purpose("municipal_supervision"), shared.for_purpose("riec_integral_assessment")
        >>> keyed_hash(a, "bsn", "123456782") == keyed_hash(b, "bsn", "123456782"), a.fingerprint == b.fingerprint
        (False, False)
        """
        derived = hmac.new(self._secret, f"mhgraph delivery key v1\x1f{run_purpose}".encode(), hashlib.sha256)
        return Key(derived.hexdigest().encode())

    def digest(self, domain: str, value: str) -> bytes:
        return hmac.digest(self._secret, f"{domain}\x1f{value}".encode(), "sha256")  # one-shot: no HMAC object

    def digests(self, domain: str, values) -> list[bytes]:
        """:meth:`digest` of many values, the keyed state of ``domain`` prepared once.

        >>> key = Key(b"example key of at least sixteen bytes")
        >>> key.digests("d", ["a", "b"]) == [key.digest("d", "a"), key.digest("d", "b")]
        True
        """
        prepared = hmac.new(self._secret, f"{domain}\x1f".encode(), hashlib.sha256)
        out = []
        for value in values:
            state = prepared.copy()
            state.update(value.encode())
            out.append(state.digest())
        return out

    def bloom_positions(self, domain: str, gram: str) -> tuple[int, ...]:
        """Bit positions of one q-gram (cached: names reuse a few thousand bigrams)."""
        cached = self._positions.get((domain, gram))
        if cached is None:
            raw = self.digest("bloom:" + domain, gram)
            cached = tuple(
                int.from_bytes(raw[2 * i : 2 * i + 2], "big") % BLOOM_BITS for i in range(BLOOM_HASHES)
            )
            self._positions[(domain, gram)] = cached
        return cached


def load_key(path: str | os.PathLike | None = None, env: str = KEY_ENV) -> Key:
    """Read the key from a file, or else from the environment variable ``env``.

    Raises :class:`KeyError_` naming where it looked, never echoing what it found.
    """
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise KeyError_(f"key file {file} does not exist")
        secret = file.read_bytes().strip()
        if not secret:
            raise KeyError_(f"key file {file} is empty")
        return Key(secret)
    value = os.environ.get(env)
    if not value:
        raise KeyError_(f"no key: pass --key-file or set the environment variable {env}")
    return Key(value.encode())


def keygen(path: str | os.PathLike) -> Key:
    """Write a new key to ``path``: 32 random bytes as 64 hex digits, readable by the owner only.

    Refuses to overwrite an existing file (a lost key makes every extract made with it
    unlinkable). Returns the key; only its fingerprint may be shown.

    >>> import tempfile, pathlib
    >>> key = keygen(pathlib.Path(tempfile.mkdtemp()) / "mhgraph.key")
    >>> len(key.fingerprint)
    16
    """
    file = Path(path)
    try:
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyError_(f"key file {file} already exists; refusing to overwrite it") from None
    secret = os.urandom(32).hex().encode()
    with os.fdopen(descriptor, "wb") as out:
        out.write(secret + b"\n")
    return Key(secret)


def installation_key_path() -> Path:
    """Where this installation's own secret lives: ``$MHGRAPH_INSTALLATION_KEY_FILE``, else
    ``mhgraph/installation.key`` in the user's configuration folder (``$XDG_CONFIG_HOME`` or
    ``~/.config``) — never next to the data or a run's output."""
    explicit = os.environ.get(INSTALLATION_KEY_ENV)
    if explicit:
        return Path(explicit)
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "mhgraph" / "installation.key"


def installation_key() -> Key:
    """The installation's secret, made on first use (see :func:`installation_key_path`).

    It keys what the engine derives itself, such as entity ids, so that nobody holding a run's
    output can recompute an id from a guessed record id. It is not a partner key, is never
    shared, and stays the same across runs so that ids survive re-runs. Only its fingerprint is
    ever logged.
    """
    return _installation_key(installation_key_path())


@functools.lru_cache(maxsize=4)
def _installation_key(path: Path) -> Key:
    if path.is_file():
        return load_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        key = keygen(path)
    except KeyError_:  # another process made it first
        return load_key(path)
    log.info("made a new installation key at %s (fingerprint %s)", path, key.fingerprint)
    return key


def keyed_hash(key: Key, domain: str, value: str | None) -> str | None:
    """HMAC-SHA-256 of ``value`` under ``domain``, as 32 hex digits; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    return key.digest(domain, value).hex()[:HASH_HEX_DIGITS]


def _bigrams(text: str) -> list[str]:
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


# Hardenings of the Bloom filters measured in benchmarks/bench_privacy.py (see docs/privacy.md):
# * "balance": the filter and its complement, permuted with the key: every filter has the same
#   number of ones (Schnell & Borgs 2016); 512 bits;
# * "xor": the two halves XOR-folded into one (Schnell, Borgs & Encarnação 2016); 128 bits;
# * "blip": every bit flipped with probability BLIP_FLIP / 2, drawn from a keyed stream of the
#   record's ``salt`` (randomised response, Alaggan et al. 2012): equal values on different
#   records get different filters;
# * "salt": the bigram positions depend on ``salt`` too (a keyed per-record value such as the
#   year of birth, Niedermeyer et al. 2014): equal values with different salts get different
#   filters, equal values with equal salts equal ones.
HARDENINGS = ("none", "balance", "xor", "blip", "salt")
BLIP_FLIP = 0.1


def bloom_encode(key: Key, domain: str, text: str | None, hardening: str = "none", salt: str | None = None) -> str | None:
    """Keyed Bloom filter of the padded bigrams of an already normalised ``text`` (base64),
    optionally hardened (:data:`HARDENINGS`; ``salt`` is the per-record value "blip" and
    "salt" need)."""
    if not text:
        return None
    if hardening not in HARDENINGS:
        raise ValueError(f"unknown hardening {hardening!r}; choose one of {', '.join(HARDENINGS)}")
    if hardening in ("blip", "salt") and not salt:
        raise ValueError(f"hardening {hardening!r} needs a per-record salt")
    position_domain = f"{domain}\x1e{salt}" if hardening == "salt" else domain
    bits = bytearray(BLOOM_BITS // 8)
    for gram in _bigrams(text):
        for pos in key.bloom_positions(position_domain, gram):
            bits[pos >> 3] |= 1 << (pos & 7)
    if hardening in ("balance", "xor", "blip"):
        bits = _harden(key, domain, bytes(bits), hardening, salt)
    return base64.b64encode(bytes(bits)).decode()


def _keyed_rng(key: Key, domain: str, value: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(key.digest(domain, value)[:16], "big"))


def _harden(key: Key, domain: str, raw: bytes, hardening: str, salt: str | None) -> bytes:
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little").astype(bool)
    if hardening == "balance":
        order = _keyed_rng(key, "balance permutation", domain).permutation(2 * bits.size)
        bits = np.concatenate([bits, ~bits])[order]
    elif hardening == "xor":
        half = bits.size // 2
        bits = bits[:half] ^ bits[half:]
    else:  # blip
        flip = _keyed_rng(key, "blip:" + domain, salt or "").random(bits.size) < BLIP_FLIP / 2
        bits = bits ^ flip
    return np.packbits(bits, bitorder="little").tobytes()


def dice(a: str | None, b: str | None) -> float:
    """Dice similarity of two base64 filters; NaN when either is missing. (Whole columns are
    compared with :mod:`mhgraph.resolve.bits`, which this calls.)"""
    from mhgraph.resolve.bits import decode_bloom, dice_pairs

    matrix, present = decode_bloom([a, b])
    return float(dice_pairs(matrix, present, np.array([0]), np.array([1]))[0])


def person_match_keys(
    key: Key, given: str | None, family: str | None, birth_date: str | None
) -> tuple[str | None, str | None]:
    """Two keyed match keys for a person.

    * key 1: both name cores in sorted order + birth year + day and month in sorted order —
      survives swapped given/family name and swapped day/month;
    * key 2: family-name core + first initial + birth year — survives initials and typos in
      the given name or the day of birth.
    """
    given_n = normalise.given_name(given)
    family_n = normalise.family_name_core(family)
    born = normalise.parse_date(birth_date)
    if born is None or not (given_n or family_n):
        return None, None
    day_month = "".join(sorted([f"{born.month:02d}", f"{born.day:02d}"]))
    names = " ".join(sorted(n for n in (given_n, family_n) if n))
    key_1 = keyed_hash(key, "match_key_1", f"{names}|{born.year}|{day_month}")
    key_2 = (
        keyed_hash(key, "match_key_2", f"{family_n}|{given_n[0]}|{born.year}")
        if (family_n and given_n)
        else None
    )
    return key_1, key_2


def address_keys(
    key: Key, postcode: str | None, number: str | int | None, addition: str | None
) -> tuple[str | None, str | None]:
    """Keyed address key (postcode + number + addition) and building key (postcode + number)."""
    pc = normalise.postcode(postcode)
    house = normalise.house_number(number, addition)
    if pc is None or house is None:
        return None, None
    nr, extra = house
    return (
        keyed_hash(key, "address", f"{pc}|{nr}|{extra}"),
        keyed_hash(key, "building", f"{pc}|{nr}"),
    )
