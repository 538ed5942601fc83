"""How an input is read: the options of every importer, and reading a file of any of them.

Input: the command line's `--input-format`, `--parameter` and `--parameters-file` values.
Output: `ImportOptions`; `read_text(path)`, the size-capped, never-hanging read of an input file.
Guarantee: a plain value; `read_text` fails only with an `InputError` at `path:1:1` (see `parse.read_input_text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("manifest", "cloudformation", "cdk", "terraform", "aws")


@dataclass(frozen=True)
class ImportOptions:
    """How to read an input: `input_format` forces one of `FORMATS` (None: detected from the content);
    `parameters` are CloudFormation parameter values and pseudo parameters (`AWS::AccountId`, `AWS::Region`,
    ...), which Terraform plans and exports read too (the account and Region the plan does not say)."""

    input_format: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    origin: str = "--parameter"


def read_text(path: Path) -> str:
    from reasoner.front.parse import read_input_text

    return read_input_text(path, what="input file")
