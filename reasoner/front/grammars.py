"""The Lark grammars of the project (`grammars/*.lark` in the source tree, `reasoner.grammars` when installed).

Input: a grammar file name (`policy.lark`, `property.lark`), and for `lalr_parser` Lark's options.
Output: its text; `lalr_parser`: the LALR parser, its tables read from the user's cache when a run before
built them (`cache_dir()`: building them costs 25-140 ms per grammar on every start, loading them 2-7 ms).
Guarantee: the same text whether the package is installed (wheel or editable) or imported straight from a
source checkout, where the directory `reasoner/` shadows the installed package and `reasoner.grammars` does
not exist as a module. A cached table is used only for the same grammar text, options, Lark and Python
versions (Lark checks a SHA-256 of all of them, and the file name carries it too); a cache that cannot be
read or written is ignored (the tables are built as without one).
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


@cache
def grammar_text(name: str) -> str:
    try:
        return resources.files("reasoner.grammars").joinpath(name).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        # a source checkout imported from its root: the grammars sit beside the package directory
        return (Path(__file__).resolve().parents[2] / "grammars" / name).read_text(encoding="utf-8")


def cache_dir() -> Path | None:
    """The directory of the user's caches: `$REASONER_CACHE_DIR`, else `$XDG_CACHE_HOME/reasoner`, else
    `~/.cache/reasoner`; None when `REASONER_CACHE_DIR` is empty (no cache) or no home is known."""
    explicit = os.environ.get("REASONER_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit.strip() else None
    base = os.environ.get("XDG_CACHE_HOME")
    if base:
        return Path(base) / "reasoner"
    try:
        return Path.home() / ".cache" / "reasoner"
    except (RuntimeError, KeyError):
        return None


def lalr_parser(name: str, **options: Any) -> Any:
    """`Lark(grammar_text(name), parser="lalr", **options)`, with its analysed tables cached on disk (in a
    directory only the user can write: Lark reads them with `pickle`)."""
    import lark

    text = grammar_text(name)
    path = None
    where = cache_dir()
    if where is not None:
        try:
            where.mkdir(parents=True, exist_ok=True, mode=0o700)
            if where.stat().st_uid == os.getuid() and os.access(where, os.W_OK):
                shown = "".join(f"{k}={v!r};" for k, v in sorted(options.items()) if k != "transformer")
                digest = hashlib.sha256(f"{text}\0{shown}\0{lark.__version__}".encode()).hexdigest()[:16]
                path = str(where / f"grammar-{Path(name).stem}-{digest}.lark")
        except OSError:
            path = None
    if path is None:
        return lark.Lark(text, parser="lalr", **options)
    return lark.Lark(text, parser="lalr", cache=path, **options)
