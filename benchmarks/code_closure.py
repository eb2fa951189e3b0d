"""Which mhgraph files a cached benchmark input was made with: the import closure of some modules.

A benchmark that keeps what it generated or delivered (``bench_er.py``'s deliveries,
``bench_scale.py``'s synthetic parts) stamps it with a digest of the code that made it, so that
the cache goes stale when that code changes, and only then.

>>> from pathlib import Path
>>> root = Path(__file__).resolve().parents[1]
>>> names = {path.relative_to(root).as_posix() for path in imported_files(root, ("mhgraph.synth",))}
>>> {"mhgraph/synth/noise.py", "mhgraph/normalise.py", "mhgraph/pseudonymise.py"} <= names
True
"""

from __future__ import annotations

import ast
from pathlib import Path


def imported_files(root: Path, roots: tuple[str, ...], later: tuple[str, ...] = ()) -> list[Path]:
    """The files under ``root`` of every mhgraph module that importing ``roots`` loads, directly or
    through one another, read from every import statement of each module (inside functions too,
    relative ones resolved), with the packages they sit in. Not the package's own ``__init__``,
    which imports every stage, nor the ``later`` stages (and what only they import) that a module
    calls only for what follows (``crypto.dice`` compares filters with ``resolve.bits``)."""
    def file_of(name: str) -> Path:
        module = root.joinpath(*name.split("."))
        return module / "__init__.py" if module.is_dir() else module.with_suffix(".py")

    def imported(name: str, node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        if not isinstance(node, ast.ImportFrom):
            return []
        # a relative import counts from the package the module sits in (a package is its own)
        package = name if file_of(name).name == "__init__.py" else name.rpartition(".")[0]
        base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]) if node.level else ""
        module = ".".join(part for part in (base, node.module or "") if part)
        return [module, *(f"{module}.{alias.name}" for alias in node.names)]

    todo, seen = list(roots), set()
    while todo:
        name = todo.pop()
        if (name in seen or name == "mhgraph" or not file_of(name).is_file()
                or any(name == stage or name.startswith(stage + ".") for stage in later)):
            continue
        seen.add(name)
        todo.append(name.rpartition(".")[0])
        todo += [module for node in ast.walk(ast.parse(file_of(name).read_bytes()))
                 for module in imported(name, node) if module.startswith("mhgraph.")]
    return sorted(file_of(name) for name in seen)
