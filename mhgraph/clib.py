"""Functions of the C library this process runs on, found without starting another program.

``ctypes.util.find_library("c")`` runs ``ldconfig -p`` (or a compiler) in a subprocess to learn
the library's file name: a process started at every import of :mod:`mhgraph.resolve` and at
every run folder swapped in. The C library is loaded into this process already, and
``dlopen(NULL)`` (``ctypes.CDLL(None)``) gives its functions by name.

>>> c_function("no_such_function_in_any_c_library") is None
True
"""

from __future__ import annotations

import ctypes
import functools

__all__ = ["c_function"]


@functools.cache
def _this_process(use_errno: bool) -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=use_errno)
    except (OSError, TypeError):  # no dlopen(NULL) (Windows)
        return None


def c_function(name: str, use_errno: bool = False):
    """The C library's function ``name``, or ``None`` where this process has none: glibc's
    ``malloc_trim`` is missing under musl and macOS, ``renameat2`` under glibc before 2.28.
    ``use_errno``: ``ctypes.get_errno()`` then tells why a call failed."""
    library = _this_process(use_errno)
    return getattr(library, name, None) if library is not None else None
