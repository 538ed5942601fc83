"""Environments from what users already have: manifests, CloudFormation, CDK, Terraform plans, AWS exports.

Input: a path given on the command line or in a property file's `environment "PATH"` (a file, or a directory of
files), an optional forced format (`--input-format`) and parameter values (`--parameter K=V`, parameter files).
Output: `load(path, ...) -> Environment`, whatever the format; `detect(path)` names the format from the content.
Guarantee: the format is read from the content, never from the file name: a CloudFormation template (JSON or
YAML) has `AWSTemplateFormatVersion` or `Resources` of `AWS::...` types; a Terraform plan has `format_version`
and `planned_values` or `resource_changes`; a CDK cloud assembly is a directory (or its `manifest.json`) with
`artifacts`; an AWS export is the JSON output of `aws kms ...`, `aws iam get-account-authorization-details` or
`aws organizations ...`; any other YAML is a manifest. A directory is one environment: a cloud assembly, a
manifest directory (`environment.yaml`, as `reasoner snapshot` writes), or every template, plan and export in
it. Input that is none of these is IAC002, naming what was recognised. Every importer keeps the contract of
its module (unknowns recorded, never guessed; errors with file:line:col and stable codes).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from reasoner.errors import InputError, raise_all
from reasoner.front import confine
from reasoner.front.importers import nodes
from reasoner.front.importers.nodes import UNKNOWN_FORMAT, Node, fail
from reasoner.front.importers.options import FORMATS, ImportOptions
from reasoner.front.importers.options import read_text as _read
from reasoner.semantics.environment import Environment
from reasoner.source import Span

if TYPE_CHECKING:  # the builder (and the policy stand-ins it imports) only when something is imported: a manifest
    from reasoner.front.importers.build import Builder  # needs none of it (~20 ms of a small `check`)

#: Files of a directory that are read (other files, such as READMEs and policy files, are not inputs).
SUFFIXES = (".json", ".yaml", ".yml", ".template")
#: Files one directory may hold (a bound on the work of a directory argument).
MAX_FILES = 2000


#: A YAML text that cannot be parsed is still recognised as a template by these lines (its errors are then
#: reported as a template's, IAC...).
_LOOKS_LIKE_TEMPLATE = re.compile(r"^AWSTemplateFormatVersion\s*:|^Resources\s*:[\s\S]*^\s+Type\s*:\s*['\"]?AWS::",
                                  re.MULTILINE)


def _yaml_template(text: str) -> bool:
    """A YAML text is a template: its top level (composed, never expanded) has `AWSTemplateFormatVersion`, or
    `Resources` whose entries have `AWS::...` types; a text that does not compose is one if its lines say so."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return _LOOKS_LIKE_TEMPLATE.search(text) is not None
    if not isinstance(root, yaml.MappingNode):
        return False
    top = {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    if "AWSTemplateFormatVersion" in top:
        return True
    res = top.get("Resources")
    if not isinstance(res, yaml.MappingNode) or not res.value:
        return False
    for _, r in res.value:
        t = {k.value: v for k, v in r.value if isinstance(k, yaml.ScalarNode)} if isinstance(r, yaml.MappingNode) \
            else {}
        node = t.get("Type")
        if not (isinstance(node, yaml.ScalarNode) and str(node.value).count("::") == 2):
            return False
    return True


def _format_of_tree(tree: Node) -> str | None:
    from reasoner.front.importers import aws_exports, cdk, terraform
    from reasoner.front.importers.cloudformation import is_template

    if is_template(tree):
        return "cloudformation"
    if terraform.is_plan(tree):
        return "terraform"
    if cdk.is_assembly_manifest(tree):
        return "cdk"
    if aws_exports.is_export(tree):
        return "aws"
    return None


def detect(path: str | Path) -> str:
    """The format of `path` from its content: one of `FORMATS`, or "policy" for a single policy document.
    Raises IAC002 (with what was found) when it is none of them."""
    p = Path(path)
    if p.is_dir():
        if (p / "manifest.json").is_file():
            return "cdk"
        return "directory"
    try:
        text = _read(p)
    except InputError:
        return "manifest"  # missing or unreadable: the manifest loader reports it in its own words
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] not in ("{", "["):
        return "cloudformation" if _yaml_template(text) else "manifest"
    try:
        tree = nodes.from_json(text, str(path))
    except InputError:
        return "manifest"  # not JSON (YAML's flow style starts with `{` too): the manifest loader reports it
    found = _format_of_tree(tree)
    if found is not None:
        return found
    if tree.is_mapping and tree.get("Statement") is not None:
        return "policy"
    keys = ", ".join(f"`{k}`" for k, _ in list(tree.items())[:6]) or "none"
    raise fail(Span.point(str(path), 1, 1), f"`{path}` is no environment this tool reads (top-level keys: {keys})",
               UNKNOWN_FORMAT, help="inputs: a manifest (YAML), a CloudFormation template, a CDK cloud assembly, "
                                    "a Terraform plan (`terraform show -json`), AWS CLI exports, or a policy")


def load(path: str | Path, *, root: str | Path | None = None, options: ImportOptions | None = None) -> Environment:
    """The environment at `path`, in any format (see the module docstring)."""
    opts = options or ImportOptions()
    p = Path(path)
    fmt = opts.input_format or detect(p)
    if fmt == "manifest":
        from reasoner.front.manifest import load_environment

        return load_environment(p, root=root, options=opts, importer=_importer(opts))
    from reasoner.front.importers.build import Builder

    builder = Builder()
    if fmt == "directory":
        if not read_directory(p, builder, opts, root):
            from reasoner.front.manifest import load_environment

            return load_environment(p, root=root)  # no input in it: the manifest loader says why (ENV004)
    else:
        read_into(p, fmt, builder, opts)
    _finish(builder)
    return builder.environment(str(p))


def _finish(builder: Builder) -> None:
    """What AWS exports said across files (key policies by file name, the organization), put in place."""
    from reasoner.front.importers import aws_exports

    aws_exports.finish(builder)


def read_into(p: Path, fmt: str, builder: Builder, opts: ImportOptions, *, text: str | None = None) -> None:
    """Add the input `p` of format `fmt` to `builder`."""
    from reasoner.front.importers import aws_exports, cdk, terraform
    from reasoner.front.importers.cloudformation import Settings, read_template

    if fmt == "cdk":
        cdk.read_assembly(p, builder, opts)
        return
    if p.is_dir():
        raise fail(Span.point(str(p), 1, 1), f"`{p}` is a directory, not a {fmt} file", UNKNOWN_FORMAT)
    text = _read(p) if text is None else text
    if fmt == "cloudformation":
        read_template(text, str(p), builder, Settings(dict(opts.parameters), opts.origin))
    elif fmt == "terraform":
        terraform.read_plan(text, str(p), builder, opts)
    elif fmt == "aws":
        aws_exports.read_export(text, str(p), builder, opts)
    else:
        raise fail(Span.point(str(p), 1, 1), f"`{p}` cannot be read as `{fmt}` here", UNKNOWN_FORMAT,
                   help="formats: " + ", ".join(FORMATS))


def _importer(cli: ImportOptions) -> Callable[[list[tuple[Path, str | None, dict[str, str], Span]], Path], Builder]:
    """The reader of a manifest's `imports:` entries (path, format, parameters, span): each read into one
    builder with its parameters over the command line's."""

    def read(entries: list[tuple[Path, str | None, dict[str, str], Span]], root: Path) -> Builder:
        from reasoner.front.importers.build import Builder

        builder = Builder()
        errors: list[InputError] = []
        for path, fmt, params, span in entries:
            opts = ImportOptions(fmt, {**cli.parameters, **params}, f"the import at {span}")
            try:
                found = fmt or detect(path)
                if found in ("manifest", "policy"):
                    raise fail(span, f"import `{path}` is a {found}, not a template, plan, assembly or export",
                               UNKNOWN_FORMAT)
                if found == "directory":
                    read_directory(path, builder, opts, root)
                else:
                    read_into(path, found, builder, opts)
            except InputError as exc:
                errors.append(exc)
        raise_all(errors)
        _finish(builder)
        return builder

    return read


def read_directory(directory: Path, builder: Builder, opts: ImportOptions, root: str | Path | None) -> int:
    """Every template, plan and export of a directory (sorted by path; subdirectories included), as one
    environment. A manifest directory (`environment.yaml`) is read by the manifest loader instead."""
    manifest = directory / "environment.yaml"
    if manifest.is_file():
        from reasoner.front.manifest import load_environment

        env = load_environment(manifest, root=root, options=opts, importer=_importer(opts))
        builder.base = env
        return 1
    confine_root = confine.root_of(root, directory)
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.lower().endswith(SUFFIXES):
                files.append(Path(str(dirpath)) / name)
        if len(files) > MAX_FILES:
            raise fail(Span.point(str(directory), 1, 1), f"`{directory}` holds more than {MAX_FILES} files",
                       nodes.TOO_BIG)
    errors: list[InputError] = []
    found = 0
    for f in files:
        rel = os.path.relpath(str(f), str(directory))
        try:
            confine.check(confine_root, rel, f)
        except confine.Refused as exc:
            errors.append(fail(Span.point(str(f), 1, 1), f"`{rel}` is refused: {exc.reason}", confine.PATH_REFUSED,
                               help=confine.HELP))
            continue
        try:
            text = _read(f)
            stripped = text.lstrip("\ufeff \t\r\n")
            tree = nodes.from_json(text, str(f)) if stripped[:1] in ("{", "[") else nodes.from_yaml(text, str(f))
            fmt = _format_of_tree(tree)
            if fmt is None or fmt == "cdk" or (fmt == "cloudformation" and stripped[:1] not in ("{", "[")
                                                 and not _yaml_template(text)):
                continue  # a policy, a README in YAML, a parameter file: not an input of its own
            found += 1
            read_into(f, fmt, builder, opts, text=text)
        except InputError as exc:
            errors.append(exc)
    raise_all(errors)
    return found


def parse_parameters(items: list[str], files: list[str]) -> dict[str, str]:
    """`--parameter K=V` values over the values of `--parameters-file` files (later files win)."""
    from reasoner.front.parse import INPUT_BAD_ARGUMENT

    out: dict[str, str] = {}
    for f in files:
        from reasoner.front.importers.cloudformation import parameter_file  # (only with parameter files)

        out.update(parameter_file(_read(Path(f)), f))
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"parameter `{item}` is not of the form KEY=VALUE", code=INPUT_BAD_ARGUMENT)
        out[name.strip()] = value
    return out


__all__ = ["FORMATS", "ImportOptions", "detect", "load", "parse_parameters", "read_into"]
