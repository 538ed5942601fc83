"""CDK cloud assemblies (`cdk synth` output, `cdk.out/`) -> the stacks they deploy, read as templates.

Input: the directory of a cloud assembly (or its `manifest.json`), as `cdk synth` writes it: `manifest.json` lists
`artifacts`; each `aws:cloudformation:stack` artifact names its `templateFile` and its `environment`
(`aws://ACCOUNT/REGION`); nested assemblies (`cdk:cloud-assembly`, one per stage) have their own directory;
nested stacks are `AWS::CloudFormation::Stack` resources whose `aws:asset:path` metadata names their template.
Output: every stack of every (nested) assembly, read by `cloudformation.read_template` into one builder, with
`AWS::AccountId`, `AWS::Region` and `AWS::StackName` taken from the assembly.
Guarantee: an environment-agnostic stack (`aws://unknown-account/unknown-region`) takes its account and Region
from `--parameter AWS::AccountId=... AWS::Region=...`, else they are unknown values, never a default; a
template file outside the assembly directory is refused (INPUT006); assemblies nest at most `MAX_DEPTH` levels.
"""

from __future__ import annotations

from pathlib import Path

from reasoner.errors import InputError, raise_all
from reasoner.front import confine
from reasoner.front.importers import nodes
from reasoner.front.importers.build import Builder
from reasoner.front.importers.nodes import SHAPE, Node, fail
from reasoner.front.importers.options import ImportOptions
from reasoner.source import Span

MAX_DEPTH = 8


def is_assembly_manifest(tree: Node) -> bool:
    arts = tree.get("artifacts")
    return tree.is_mapping and tree.get("version") is not None and arts is not None and arts.is_mapping


def read_assembly(path: Path, builder: Builder, opts: ImportOptions, depth: int = 0) -> None:
    from reasoner.front.importers.cloudformation import Settings, read_template
    from reasoner.front.importers.options import read_text as _read

    directory = path if path.is_dir() else path.parent
    manifest = directory / "manifest.json"
    tree = nodes.from_json(_read(manifest), str(manifest))
    if not is_assembly_manifest(tree):
        raise fail(tree.span, f"`{manifest}` is not a cloud assembly manifest (no `artifacts`)", SHAPE)
    root = confine.find_root(directory)
    errors: list[InputError] = []

    def inside(rel: str, at: Span) -> Path:
        try:
            confine.check(confine.root_of(str(directory), directory), rel, directory / rel)
        except confine.Refused as exc:
            raise fail(at, f"`{rel}` is refused: {exc.reason}", confine.PATH_REFUSED) from None
        _ = root
        return directory / rel

    arts = tree.get("artifacts")
    assert arts is not None
    for name, art in arts.items():
        kind = art.get("type")
        props = art.get("properties") or Node(nodes.Mapping(), art.span)
        try:
            if kind is not None and kind.value == "cdk:cloud-assembly":
                sub = props.get("directoryName")
                if sub is None or not sub.is_str:
                    raise fail(art.span, f"nested assembly `{name}` has no `directoryName`", SHAPE)
                if depth >= MAX_DEPTH:
                    raise fail(art.span, f"assemblies nested deeper than {MAX_DEPTH} levels", nodes.TOO_BIG)
                read_assembly(inside(str(sub.value), sub.span), builder, opts, depth + 1)
                continue
            if kind is None or kind.value != "aws:cloudformation:stack":
                continue
            template = props.get("templateFile")
            if template is None or not template.is_str:
                raise fail(art.span, f"stack `{name}` has no `templateFile`", SHAPE)
            params = dict(opts.parameters)
            env = art.get("environment")
            if env is not None and env.is_str and str(env.value).startswith("aws://"):
                account, _, region = str(env.value)[len("aws://"):].partition("/")
                if account and account != "unknown-account":
                    params["AWS::AccountId"] = account
                if region and region != "unknown-region":
                    params["AWS::Region"] = region
            stack_name = props.get("stackName")
            params.setdefault("AWS::StackName", str(stack_name.value) if stack_name is not None else name)
            for k, v in (props.get("parameters") or Node(nodes.Mapping(), art.span)).items():
                params.setdefault(k, str(v.value))
            file = inside(str(template.value), template.span)

            def nested(res: Node, logical: str, child_params: dict[str, str], _name: str = name) -> Node | None:
                meta = res.get("Metadata")
                asset = meta.get("aws:asset:path") if meta is not None else None
                if asset is None or not asset.is_str:
                    return None
                child = inside(str(asset.value), asset.span)
                read_template(_read(child), str(child), builder, Settings(child_params, f"stack `{_name}`"),
                              read_nested=nested)
                return Node(None, res.span)

            read_template(_read(file), str(file), builder, Settings(params, f"stack `{name}`"), read_nested=nested)
        except InputError as exc:
            errors.append(exc)
    raise_all(errors)
