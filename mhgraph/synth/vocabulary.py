"""The word lists the synthetic population draws from (``mhgraph/synth/data/*.txt``).

>>> vocab = load_vocabulary()
>>> "Arnhem" in vocab.municipalities.name
True
>>> sorted(vocab.nationalities.code[vocab.nationalities.eu].tolist())[:3]
['BG', 'HU', 'NL']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DATA_DIR", "Vocabulary", "load_vocabulary"]

DATA_DIR = Path(__file__).parent / "data"


def _rows(name: str) -> list[list[str]]:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class Nationalities:
    code: np.ndarray
    share: np.ndarray
    eu: np.ndarray
    adjective: np.ndarray
    permit_share: np.ndarray  # share of a non-EU group that holds a residence permit


@dataclass(frozen=True)
class Municipalities:
    name: np.ndarray
    pc_from: np.ndarray
    pc_to: np.ndarray
    weight: np.ndarray
    town: np.ndarray

    def index(self, name: str) -> int:
        return int(np.flatnonzero(self.name == name)[0])


@dataclass(frozen=True)
class Sectors:
    code: np.ndarray
    tag: np.ndarray
    weight: np.ndarray
    description: np.ndarray


@dataclass(frozen=True)
class Vocabulary:
    given: dict[tuple[str, str], np.ndarray]  # (nationality, sex) -> given names
    family: dict[str, tuple[np.ndarray, np.ndarray]]  # nationality -> (particles, name cores)
    nationalities: Nationalities
    municipalities: Municipalities
    streets: np.ndarray
    sectors: Sectors
    words: dict[str, np.ndarray]  # sector tag -> words for company names


@functools.cache
def load_vocabulary() -> Vocabulary:
    """Read every data file once."""
    given: dict[tuple[str, str], list[str]] = {}
    family: dict[str, tuple[list[str], list[str]]] = {}
    for kind, nat, sex, particle, name in _rows("names.txt"):
        if kind == "given":
            given.setdefault((nat, sex), []).append(name)
        else:
            parts, cores = family.setdefault(nat, ([], []))
            parts.append("" if particle == "-" else particle)
            cores.append(name)
    nat_rows = _rows("nationalities.txt")
    nationalities = Nationalities(
        code=np.array([r[0] for r in nat_rows]),
        share=np.array([float(r[1]) for r in nat_rows]),
        eu=np.array([r[2] == "1" for r in nat_rows]),
        adjective=np.array([r[3] for r in nat_rows]),
        permit_share=np.array([float(r[4]) for r in nat_rows]),
    )
    mun_rows = _rows("municipalities.txt")
    municipalities = Municipalities(
        name=np.array([r[0] for r in mun_rows]),
        pc_from=np.array([int(r[1]) for r in mun_rows]),
        pc_to=np.array([int(r[2]) for r in mun_rows]),
        weight=np.array([float(r[3]) for r in mun_rows]),
        town=np.array([r[4] for r in mun_rows]),
    )
    sbi_rows = _rows("sbi.txt")
    sectors = Sectors(
        code=np.array([r[0] for r in sbi_rows]),
        tag=np.array([r[1] for r in sbi_rows]),
        weight=np.array([float(r[2]) for r in sbi_rows]),
        description=np.array([r[3] for r in sbi_rows]),
    )
    words: dict[str, list[str]] = {}
    for tag, word in _rows("company_words.txt"):
        words.setdefault(tag, []).append(word)
    return Vocabulary(
        given={k: np.array(v) for k, v in given.items()},
        family={k: (np.array(p), np.array(c)) for k, (p, c) in family.items()},
        nationalities=nationalities,
        municipalities=municipalities,
        streets=np.array([r[0] for r in _rows("streets.txt")]),
        sectors=sectors,
        words={k: np.array(v) for k, v in words.items()},
    )
