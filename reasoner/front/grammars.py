"""The Lark grammars of the project (`grammars/*.lark` in the source tree, `reasoner.grammars` when installed).

Input: a grammar file name (`policy.lark`, `property.lark`).
Output: its text.
Guarantee: the same text whether the package is installed (wheel or editable) or imported straight from a
source checkout, where the directory `reasoner/` shadows the installed package and `reasoner.grammars` does
not exist as a module.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


@cache
def grammar_text(name: str) -> str:
    try:
        return resources.files("reasoner.grammars").joinpath(name).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        # a source checkout imported from its root: the grammars sit beside the package directory
        return (Path(__file__).resolve().parents[2] / "grammars" / name).read_text(encoding="utf-8")
