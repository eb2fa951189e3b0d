"""Which file is which extract: spec file patterns, sidecars and key fingerprints.

A file belongs to the spec whose ``file`` (a name or a glob, compared without regard to
case) matches its name. Its sidecar ``<file>.meta.json``, written by
``mhgraph pseudonymise``, is required and must name the same source, partner and purpose: the
purpose under which the partner collected the data comes from the partner's own sidecar and
must agree with the spec. A file whose name matches no spec is still taken in when its sidecar
names a known source. All sidecars of a run must carry the same key fingerprint and the same
run purpose the extract was delivered for: extracts pseudonymised with different keys cannot
be linked, and mixing them would silently lose every cross-partner link; extracts delivered
for different purposes are made with different delivery keys precisely so that they do not
link.

A file without a sidecar is refused, since its key, row count and purpose cannot be checked;
``accept_missing_sidecars`` takes it in anyway, and every summary says so in capitals.

>>> import tempfile, pathlib
>>> from mhgraph.spec import load_specs
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "kvk_functionarissen.csv").write_text("functie_id\\n")
>>> _ = (folder / "notes.txt").write_text("")
>>> plan_files(folder, load_specs())
Traceback (most recent call last):
...
mhgraph.errors.InputError: ...kvk_functionarissen.csv: no sidecar beside it (its file name followed by .meta.json): ...
>>> planned, unmatched = plan_files(folder, load_specs(), accept_missing_sidecars=True)
>>> [(p.path.name, p.spec.name) for p in planned], [u.name for u in unmatched]
([('kvk_functionarissen.csv', 'kvk_functionarissen')], ['notes.txt'])
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from mhgraph.errors import InputError
from mhgraph.file_names import shown_path
from mhgraph.ingest.readers import open_extract
from mhgraph.ingest.validate import refuse_plaintext_header
from mhgraph.purpose import allowed_source_purposes
from mhgraph.pseudonymise import META_SUFFIX
from mhgraph.spec import SourceSpec

__all__ = ["MISSING_SIDECAR_WARNING", "SIDECAR_KEYS", "PlannedFile", "check_key_fingerprints", "plan_files",
           "read_sidecar"]

# What every sidecar must say (``mhgraph pseudonymise`` writes all of them).
SIDECAR_KEYS = ("source", "partner", "purpose", "rows", "key_fingerprint")
MISSING_SIDECAR_WARNING = ("TAKEN IN WITHOUT A SIDECAR (--accept-missing-sidecar): its key fingerprint, row count "
                           "and purpose were not checked; records made with another key stay silently unlinked")


@dataclass
class PlannedFile:
    path: Path
    spec: SourceSpec
    meta: dict | None  # None only when a missing sidecar was explicitly accepted
    warnings: list[str] = field(default_factory=list)


def read_sidecar(path: Path) -> dict | None:
    """The sidecar of ``path``, ``None`` when there is none; a damaged sidecar is an error."""
    meta_path = Path(str(path) + META_SUFFIX)
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"the sidecar is not valid JSON: {exc}", file=str(meta_path)) from exc
    if not isinstance(meta, dict):
        raise InputError("the sidecar must be a JSON object", file=str(meta_path))
    return meta


def _check_sidecar(path: Path, spec: SourceSpec, meta: dict, by_name: dict[str, SourceSpec]) -> None:
    missing = [key for key in SIDECAR_KEYS if meta.get(key) in (None, "")]
    if missing:
        raise InputError(f"the sidecar lacks {', '.join(missing)}: a sidecar written by mhgraph pseudonymise "
                         f"names {', '.join(SIDECAR_KEYS)}; ask the partner to deliver it again",
                         file=str(path) + META_SUFFIX)
    source = meta["source"]
    if source != spec.name:
        other = by_name.get(source)
        said = f"{source} (partner {other.partner})" if other else f"{source}"
        raise InputError(
            f"the file name matches spec {spec.name} (partner {spec.partner}), but its sidecar says it is "
            f"an extract of {said}: the file was delivered for the wrong partner or under the wrong name",
            file=str(path))
    for key in ("partner", "purpose"):
        if meta[key] != getattr(spec, key):
            raise InputError(
                f"the sidecar declares {key} {meta[key]!r}, but spec {spec.name} has {key} "
                f"{getattr(spec, key)!r}", file=str(path))


def plan_files(input_dir: str | Path, specs: list[SourceSpec], accept_missing_sidecars: bool = False,
               ) -> tuple[list[PlannedFile], list[Path]]:
    """Match the files of ``input_dir`` to ``specs``: (planned files, files no spec matches).

    Hidden files and sidecars are skipped. Raises :class:`InputError` for a missing folder,
    a file that two specs match, a missing sidecar (unless ``accept_missing_sidecars``) and a
    sidecar that lacks a key or contradicts its file's spec.
    """
    folder = Path(input_dir)
    if not folder.is_dir():
        raise InputError("the input folder does not exist", file=str(folder))
    by_name = {spec.name: spec for spec in specs}
    planned: list[PlannedFile] = []
    unmatched: list[Path] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(META_SUFFIX):
            continue
        meta = read_sidecar(path)
        matches = [s for s in specs if fnmatchcase(path.name.lower(), s.file.lower())]
        warnings = [] if meta else [MISSING_SIDECAR_WARNING]
        if len(matches) > 1:
            sidecar_choice = [s for s in matches if meta and meta.get("source") == s.name]
            if not sidecar_choice:
                raise InputError(f"the file name matches several specs ({', '.join(s.name for s in matches)}); "
                                 "rename the file or narrow the specs' file patterns", file=str(path))
            matches = sidecar_choice
        if not matches and meta and meta.get("source") in by_name:
            matches = [by_name[meta["source"]]]
            warnings.append(f"the file name does not match {matches[0].file!r}; matched to "
                            f"{matches[0].name} by its sidecar")
        if not matches:
            unmatched.append(path)
            continue
        if meta:
            _check_sidecar(path, matches[0], meta, by_name)
        elif not accept_missing_sidecars:
            _refuse_plaintext_extract(path, matches[0])
            raise InputError(
                f"no sidecar beside it (its file name followed by {META_SUFFIX}): without it the key fingerprint, the row count and the "
                "purpose under which the partner collected the data cannot be checked. Ask the partner for the "
                "sidecar mhgraph pseudonymise writes beside the extract (or, knowing the risk, pass "
                "--accept-missing-sidecar)", file=str(path))
        planned.append(PlannedFile(path, matches[0], meta, warnings))
    return planned, unmatched


def _refuse_plaintext_extract(path: Path, spec: SourceSpec) -> None:
    """A plaintext extract has no sidecar because it was never pseudonymised: say that, rather than
    only that the sidecar is missing. A file that cannot be opened is left to the sidecar refusal."""
    try:
        header = open_extract(path, spec).header
    except InputError:
        return
    refuse_plaintext_header(header, spec, str(path))


def check_key_fingerprints(planned: list[PlannedFile], run_purpose: str | None = None) -> str | None:
    """The one key fingerprint of the run; :class:`InputError` when sidecars disagree.

    Sidecars must also agree on the run purpose the extracts were delivered for; with
    ``run_purpose`` (the purpose of this run), that delivery purpose must permit every source
    the run's purpose permits, so that a run never reads a delivery made for a narrower purpose.
    The message names the odd one out (the file whose fingerprint most others do not share) and
    a file with the usual fingerprint, and both fingerprints (public names of keys), never a key.
    """
    _check_delivery_purposes(planned, run_purpose)
    fingerprints = [(item, item.meta["key_fingerprint"]) for item in planned
                    if (item.meta or {}).get("key_fingerprint") is not None]
    usual, odd = _odd_one_out(fingerprints)
    if odd is not None:
        raise InputError(
            f"extracts of one run were pseudonymised with different keys: {shown_path(usual[0].path.name)} has key "
            f"fingerprint {usual[1]}, {shown_path(odd[0].path.name)} has {odd[1]}. "
            "Records cannot be linked across them; ask the partners to use the shared key",
            file=str(odd[0].path))
    return usual[1] if usual else None


def _odd_one_out(values: list[tuple[PlannedFile, object]]) -> tuple[tuple | None, tuple | None]:
    """``(a file with the value most files share, the first file with another value)``; the odd
    one is ``None`` when all agree. Among equally common values the first file's counts as usual."""
    if not values:
        return None, None
    counts = Counter(value for _, value in values)
    common = max(dict.fromkeys(value for _, value in values), key=counts.__getitem__)
    usual = next(pair for pair in values if pair[1] == common)
    return usual, next((pair for pair in values if pair[1] != common), None)


# Sidecar fields all extracts of one run must agree on: field, value of a sidecar without it
# (None: not compared), what a disagreement means.
_AGREEMENT = (
    ("run_purpose", None, "were delivered for different purposes: {a} for {x}, {b} for {y}. Their pseudonyms "
                          "do not link; ask the partners to deliver for one run purpose"),
    ("name_hardening", "none", "encode names differently: {a} with name hardening {x}, {b} with {y}. Their name "
                               "filters cannot be compared; ask the partners to pseudonymise with one release of "
                               "mhgraph"),
)


def _check_delivery_purposes(planned: list[PlannedFile], run_purpose: str | None) -> None:
    for field, default, meaning in _AGREEMENT:
        values = [(item, (item.meta or {}).get(field, default)) for item in planned if item.meta is not None]
        usual, odd = _odd_one_out([(item, value) for item, value in values if value is not None])
        if odd is not None:
            text = meaning.format(a=shown_path(usual[0].path.name), x=usual[1], b=shown_path(odd[0].path.name), y=odd[1])
            raise InputError(f"extracts of one run {text}", file=str(odd[0].path))
    delivered = [(item, item.meta["run_purpose"]) for item in planned if (item.meta or {}).get("run_purpose")]
    if run_purpose is None or not delivered:
        return
    item, purpose = delivered[0]
    missing = allowed_source_purposes(run_purpose) - allowed_source_purposes(purpose)
    if missing:
        raise InputError(
            f"the extracts were delivered for run purpose {purpose}, which does not permit "
            f"{', '.join(sorted(missing))} as run purpose {run_purpose} does: ask the partners to deliver "
            f"for {run_purpose}", file=str(item.path))
