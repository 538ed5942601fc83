"""Environment manifests: a hand-written YAML file that describes keys, accounts, principals, sessions,
organizations and options, and names policy files by relative path.

Input: the path of a YAML manifest (PyYAML node tree, so every error has the manifest's file:line).
Output: an `Environment` whose policies are parsed and validated with the kind their place implies
(key policy, identity policy, permissions boundary, session policy, SCP, RCP).
Guarantee: every mistake is an `InputError` with a span in the manifest: unknown or missing fields, wrong
types, missing or unreadable policy files, a policy rejected for the kind of its place, an ARN of the wrong
kind, sessions whose source is not a declared principal, SCP/RCP targets of an unknown organization.
A policy file named twice for the same kind is parsed once (the same `PolicyDocument` object).
Policy files must lie inside the root (`reasoner.front.confine`: by default the git repository of the
manifest): any other, and any file in `/proc`, `/sys`, `/dev` or `.git`, or not regular, is refused unread
(INPUT006); a policy that fails is reported without quoting it beyond its first line (`confine.referenced_detail`).

Format (every section optional)::

    options: {not_principal_mode: chain, plain_operator_on_multivalued_any: false, ...}
    organizations:
      - id: o-abc123
        root: r-ab12
        management_account: "999988887777"
        scps: {r-ab12: [scp/deny-regions.json], ou-ab12-prod: [scp/allow-kms.json]}
        rcps: {r-ab12: [rcp/org-only.json]}
    accounts:
      - {id: "111122223333", organization: o-abc123, ou_path: [r-ab12, ou-ab12-prod],
         enabled_regions: [af-south-1], iam_known: true}
    keys:
      - arn: arn:aws:kms:us-west-2:111122223333:key/1234abcd-...
        policy: key-policy.json
        aliases: [alias/app]
        tags: {team: app}
        key_spec: SYMMETRIC_DEFAULT          # key_usage, origin, multi_region, aws_managed
        grants:
          - {grantee: "arn:aws:iam::444455556666:role/R", operations: [Decrypt],
             encryption_context_subset: {app: x}, retiring_principal: ..., name: g1}
    principals:
      - arn: arn:aws:iam::444455556666:role/ExampleRole   # user, role or root
        policies: [iam/example-role.json]
        boundary: iam/boundary.json
        tags: {team: app}
        unique_id: AROAEXAMPLE
        trust_policy: iam/example-role-trust.json           # roles: who may assume it
    sessions:
      - arn: arn:aws:sts::444455556666:assumed-role/ExampleRole/build   # or ...:federated-user/name
        source: arn:aws:iam::444455556666:role/ExampleRole
        policies: [iam/session.json]
        tags: {}
    resources:                                   # other resources: the type is read from the ARN
      - arn: arn:aws:s3:::example-bucket
        account: "111122223333"                  # owner; required when the ARN has none (S3, EBS snapshots)
        policy: s3/example-bucket.json           # its resource-based policy (none: no policy)
        tags: {team: app}
        block_public_access: {restrict_public_buckets: true}   # S3 (also under `accounts`)
      - {arn: "arn:aws:ec2:us-east-1::snapshot/snap-0123", account: "111122223333", shared_with: ["444455556666"]}
    vpc_endpoints:
      - {id: vpce-1a2b3c4d, vpc: vpc-1111aaaa, service: s3, account: "111122223333", policy: vpce/s3.json}
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import yaml

from reasoner.errors import (
    InputError,
    InputErrors,
    PolicyValidationError,
    ReasonerError,
    Severity,
    one_line,
    raise_all,
    register_code,
)
from reasoner.front import confine
from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.semantics import arns, names
from reasoner.semantics.environment import (
    Account,
    BlockPublicAccess,
    Environment,
    Grant,
    Key,
    Options,
    Organization,
    Principal,
    PrincipalKind,
    Resource,
    Session,
    VpcEndpoint,
)
from reasoner.source import Span

_T = TypeVar("_T")
_A = TypeVar("_A", arns.RoleArn, arns.UserArn)


def _of_a_file(exc: InputError) -> bool:
    """The error is about a file the manifest names (unreadable, refused, not a valid policy)."""
    parts = exc.errors if isinstance(exc, InputErrors) else (exc,)
    return all(e.code in (MANIFEST_POLICY, MANIFEST_FILE, confine.PATH_REFUSED) for e in parts)


class _Cascade(Exception):
    """An item that fails only because an item it refers to failed (that one is reported, not this)."""

E = Severity.ERROR
MANIFEST_SYNTAX = register_code("ENV001", E, "manifest is not valid yaml")
MANIFEST_FIELD = register_code("ENV002", E, "unknown or missing manifest field")
MANIFEST_TYPE = register_code("ENV003", E, "manifest value of the wrong type")
MANIFEST_FILE = register_code("ENV004", E, "policy file missing or unreadable")
MANIFEST_POLICY = register_code("ENV005", E, "policy rejected for its place in the manifest")
MANIFEST_ARN = register_code("ENV006", E, "ARN of the wrong kind")
MANIFEST_REFERENCE = register_code(
    "ENV007", E, "reference to an undeclared principal, account or organization"
)
MANIFEST_DUPLICATE = register_code("ENV008", E, "declared twice")
MANIFEST_NAME = register_code("ENV009", E, "IAM name that is not well-formed")

_ACCOUNT_ID = re.compile(r"\d{12}")
#: The formats an `imports:` entry may name (`reasoner.front.importers.FORMATS` less the manifest).
_IMPORT_FORMATS = ("cloudformation", "cdk", "terraform", "aws")


def _principal(text: str) -> arns.PrincipalArn | None:
    """A principal ARN of the shape a manifest accepts (`arns.parse_principal(..., strict=True)`)."""
    return arns.parse_principal(text, strict=True)


def load_environment(path: str | Path, *, root: str | Path | None = None, options: Any = None,
                     importer: Callable[..., Any] | None = None) -> Environment:
    """Read a YAML manifest and every policy file it names; see the module docstring for the format.

    Policy files must lie inside `root` (default: the git repository of `path`, else its directory; see
    `reasoner.front.confine`); any other is refused (INPUT006) at the node that names it, unread.
    The `imports:` section is read by `importer` (`reasoner.front.importers.load` passes its own, with the
    command line's `options`); without one, a manifest with `imports:` is refused (ENV002). Other input
    formats (templates, plans, assemblies, exports) are read by `reasoner.front.importers.load`."""
    from reasoner.front.parse import read_input_text

    p = Path(path)
    try:  # size-capped, never hangs on a FIFO; the error is at `path:1:1`
        text = read_input_text(p, what="manifest")
    except InputError as exc:
        message = (exc.message.replace("cannot read `", "cannot read manifest `", 1)
                   if exc.message.startswith("cannot read `") else f"cannot read manifest: {exc.message}")
        raise InputError(message, span=exc.span, code=MANIFEST_FILE) from None
    return _Loader(str(p), p.parent, confine.root_of(root, p), options, importer).load(text)


def parse_environment(text: str, *, file: str = "<manifest>", base: str | Path = ".",
                      root: str | Path | None = None) -> Environment:
    """Like `load_environment` on manifest text; policy paths are relative to `base` and confined to
    `root` (default: the git repository of `base`, else `base`)."""
    return _Loader(file, Path(base), confine.root_of(root, base)).load(text)


class _Loader:
    def __init__(self, file: str, base: Path, root: Path, options: Any = None,
                 importer: Callable[..., Any] | None = None) -> None:
        self.file = file
        self.base = base
        self.root = root
        self.import_options = options
        self.importer = importer
        self.policies: dict[tuple[Path, PolicyKind, str | None], PolicyDocument] = {}

    # ---- node helpers ------------------------------------------------------------------------------

    def span(self, node: yaml.Node) -> Span:
        s, e = node.start_mark, node.end_mark
        return Span(
            self.file,
            s.line + 1,
            s.column + 1,
            e.line + 1,
            max(e.column + 1, s.column + 2) if e.line == s.line else e.column + 1,
        )

    def fail(self, node: yaml.Node, message: str, code: str, help: str | None = None) -> InputError:
        return InputError(message, span=self.span(node), code=code, help=help)

    def mapping(
        self, node: yaml.Node, what: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping", MANIFEST_TYPE)
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            name = self.scalar(k, f"a field name of {what}")
            if name in out:
                raise self.fail(k, f"field `{name}` of {what} is given twice", MANIFEST_DUPLICATE)
            if name not in allowed:
                import difflib  # (only to suggest a spelling)

                close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6) or [
                    a for a in allowed if a.lower() == name.lower()]
                raise self.fail(
                    k,
                    f"unknown field `{name}` in {what}",
                    MANIFEST_FIELD,
                    help=(f"did you mean `{close[0]}`? " if close else "") + "expected one of: " + ", ".join(allowed),
                )
            out[name] = (k, v)
        for name in required:
            if name not in out:
                raise self.fail(node, f"{what} has no `{name}`", MANIFEST_FIELD)
        return out

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(node, f"{what} must be a single value", MANIFEST_TYPE)
        return str(node.value)

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
            return [node]  # a bare value stands for a one-element list
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list", MANIFEST_TYPE)
        return list(node.value)

    def strings(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        return tuple(self.scalar(n, f"each entry of {what}") for n in self.sequence(node, what))

    def boolean(self, node: yaml.Node, what: str) -> bool:
        text = self.scalar(node, what).lower()
        if text in ("true", "yes"):
            return True
        if text in ("false", "no"):
            return False
        raise self.fail(node, f"{what} must be true or false, not `{text}`", MANIFEST_TYPE)

    def string_map(self, node: yaml.Node, what: str) -> dict[str, str]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping", MANIFEST_TYPE)
        return {
            self.scalar(k, f"a key of {what}"): self.scalar(v, f"a value of {what}") for k, v in node.value
        }

    def account_id(self, node: yaml.Node, what: str) -> str:
        text = self.scalar(node, what)
        if not _ACCOUNT_ID.fullmatch(text):
            raise self.fail(
                node,
                f"{what} `{text}` is not a 12-digit account id",
                MANIFEST_TYPE,
                help='quote account ids in YAML, e.g. "012345678901"',
            )
        return text

    def policy(
        self, node: yaml.Node, kind: PolicyKind, what: str, key_account: str | None = None
    ) -> PolicyDocument:
        rel = self.scalar(node, what)
        if "\x00" not in rel:
            try:  # before anything touches the file: a refused one is neither read nor tested for existence
                confine.check(self.root, rel, self.base / rel)
            except confine.Refused as exc:
                raise self.fail(node, f"{what} `{one_line(rel[:200])}` is refused: {exc.reason}",
                                confine.PATH_REFUSED, help=confine.HELP) from None
        try:  # a nul character, a name too long or a symlink loop is an error at the node, not a crash
            if "\x00" in rel:
                raise ValueError("it contains a nul character")
            path = (self.base / rel).resolve()
            is_file = path.is_file()
        except (OSError, RuntimeError, ValueError) as exc:
            reason = (
                exc.strerror if isinstance(exc, OSError) and exc.strerror
                else "it is a symbolic link loop" if isinstance(exc, RuntimeError)
                else "it cannot be encoded as a file name" if isinstance(exc, UnicodeError)
                else str(exc)
            )
            raise self.fail(node, f"{what} `{one_line(rel[:200])}` is not a usable path: {reason.lower()}",
                            MANIFEST_FILE) from None
        cache_key = (path, kind, key_account)
        if cache_key in self.policies:
            return self.policies[cache_key]
        if not is_file:
            raise self.fail(node, f"{what} `{rel}` does not exist", MANIFEST_FILE)
        from reasoner.front.parse import parse_policy, read_policy_text

        try:
            text = read_policy_text(path)
        except InputError as exc:
            raise self.fail(node, f"{what} `{rel}`: {exc.message}", MANIFEST_FILE) from None
        try:
            doc = parse_policy(text, file=rel, kind=kind, key_account=key_account)
        except PolicyValidationError as exc:
            first = next((d for d in exc.diagnostics if d.is_error), None)
            detail = confine.referenced_detail(first) if first else exc.message
            raise self.fail(
                node, f"{what} `{rel}` is not a valid {kind.value} policy: {detail}", MANIFEST_POLICY,
                help="`reasoner validate` on the policy file shows every diagnostic",
            ) from None
        except ReasonerError as exc:
            raise self.fail(node, f"{what} `{rel}`: {exc.message}", MANIFEST_POLICY) from None
        self.policies[cache_key] = doc
        return doc

    def policies_of(self, node: yaml.Node, kind: PolicyKind, what: str) -> tuple[PolicyDocument, ...]:
        """Every policy of a list, each read even after another failed (all their errors together)."""
        out: list[PolicyDocument] = []
        errors: list[InputError] = []
        for n in self.sequence(node, what):
            try:
                out.append(self.policy(n, kind, what))
            except InputError as exc:
                errors.append(exc)
        raise_all(errors)
        return tuple(out)

    # ---- sections ----------------------------------------------------------------------------------

    def load(self, text: str) -> Environment:
        try:
            root = yaml.compose(text)  # a node graph: nothing is constructed, aliases are not expanded
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. NUL
            line = text.count("\n", 0, exc.position) + 1
            col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
            raise InputError(
                f"manifest is not valid yaml: character U+{exc.character:04X} is not allowed"
                if isinstance(exc.character, int) else f"manifest is not valid yaml: {exc.reason}",
                span=Span.point(self.file, line, col), code=MANIFEST_SYNTAX,
            ) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            span = Span.point(self.file, mark.line + 1, mark.column + 1) if mark else Span.point(self.file, 1, 1)
            problem = getattr(exc, "problem", None) or str(exc)
            raise InputError(
                f"manifest is not valid yaml: {' '.join(problem.split())}", span=span, code=MANIFEST_SYNTAX
            ) from None
        except RecursionError:
            raise InputError(
                "manifest is nested too deeply", span=Span.point(self.file, 1, 1), code=MANIFEST_SYNTAX
            ) from None
        if root is None:
            return Environment(source=self.file)
        self.check_tags(root)
        top = self.mapping(
            root, "the manifest", ("options", "organizations", "accounts", "keys", "principals", "sessions",
                                   "resources", "vpc_endpoints", "imports")
        )
        options = self.options(top["options"][1]) if "options" in top else Options()
        orgs = (
            tuple(self.organization(n) for n in self.sequence(top["organizations"][1], "organizations"))
            if "organizations" in top
            else ()
        )
        self.unique([(o.id, o.span) for o in orgs], "organization")
        accounts = (
            tuple(
                self.account(n, {o.id: o.root_id for o in orgs})
                for n in self.sequence(top["accounts"][1], "accounts")
            )
            if "accounts" in top
            else ()
        )
        self.unique([(a.id, a.span) for a in accounts], "account")
        # every principal, session and key is read even after one failed (a malformed policy file, a bad
        # field): all their errors are reported together; one that failed is left out of the checks of
        # references and duplicates, so that it causes no further errors
        errors: list[InputError] = []
        failed: set[str] = set()

        def each(section: str, read: Callable[[yaml.Node], _T]) -> tuple[_T, ...]:
            out: list[_T] = []
            for n in self.sequence(top[section][1], section) if section in top else ():
                try:
                    out.append(read(n))
                except _Cascade:
                    continue
                except InputError as exc:
                    errors.append(exc)
                    if not _of_a_file(exc):  # the manifest itself is malformed: stop at its first error
                        raise_all(errors)
                    failed.add(self._arn_of(n))
            return tuple(out)

        principals = each("principals", self.principal)
        self.unique([(p.arn, p.span) for p in principals], "principal")
        by_arn = {p.arn: p for p in principals}
        builder = self.imports(top["imports"][1]) if "imports" in top else None
        if builder is not None:  # sessions may name the roles and users of the imported files
            for draft in builder.principals.values():
                by_arn.setdefault(draft.arn, Principal(draft.arn, draft.kind, span=draft.span))
        sessions = each("sessions", lambda n: self.session(n, by_arn, failed))
        self.unique([(s.arn, s.span) for s in sessions], "session")
        keys = each("keys", self.key)
        self.unique([(k.arn, k.span) for k in keys], "key")
        resources = each("resources", self.resource)
        self.unique([(r.arn, r.span) for r in resources] + [(k.arn, k.span) for k in keys], "resource")
        endpoints = each("vpc_endpoints", self.vpc_endpoint)
        self.unique([(e.id, e.span) for e in endpoints], "VPC endpoint")
        raise_all(errors)
        env = Environment(
            keys=keys,
            accounts=accounts,
            principals=principals,
            sessions=sessions,
            organizations=orgs,
            options=options,
            source=self.file,
            resources=resources,
            vpc_endpoints=endpoints,
        )
        return builder.environment(self.file, base=env) if builder is not None else env

    def imports(self, node: yaml.Node) -> Any:
        """The `imports:` section: each entry's path (confined like policy files, and existing), format and
        parameters, handed to `self.importer`, which reads them into one builder (`importers.build.Builder`)."""
        if self.importer is None:
            raise self.fail(node, "`imports` are read by `reasoner.front.importers.load` (the command line uses it)",
                            MANIFEST_FIELD)
        entries = []
        for item in self.sequence(node, "imports"):
            m = self.mapping(item, "an import", ("path", "format", "parameters"), ("path",))
            rel = self.scalar(m["path"][1], "import path")
            try:
                confine.check(self.root, rel, self.base / rel)
            except confine.Refused as exc:
                raise self.fail(m["path"][1], f"import `{one_line(rel[:200])}` is refused: {exc.reason}",
                                confine.PATH_REFUSED, help=confine.HELP) from None
            path = self.base / rel
            if not path.exists():
                raise self.fail(m["path"][1], f"import `{rel}` does not exist", MANIFEST_FILE)
            fmt = self.scalar(m["format"][1], "format") if "format" in m else None
            if fmt is not None and fmt not in _IMPORT_FORMATS:
                raise self.fail(m["format"][1], f"format `{fmt}` is not one of " +
                                ", ".join(f"`{f}`" for f in _IMPORT_FORMATS), MANIFEST_TYPE)
            params = self.string_map(m["parameters"][1], "parameters") if "parameters" in m else {}
            entries.append((path, fmt, params, self.span(item)))
        return self.importer(entries, self.root)

    #: tags a manifest may carry (implicitly or written out): plain data only; `!!python/object`, `!!binary`,
    #: `!!set` and local tags such as `!Ref` are refused, so nothing but strings, lists and mappings is read
    _PLAIN_TAGS = frozenset(
        f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp", "merge")
    )

    def check_tags(self, root: yaml.Node) -> None:
        """Refuse any tag that is not plain data; walks the node graph once per node (alias bombs are
        shared nodes, so this is linear in the text) and without recursion."""
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.tag not in self._PLAIN_TAGS:
                raise self.fail(
                    node,
                    f"yaml tag `{node.tag.replace('tag:yaml.org,2002:', '!!', 1)}` is not allowed",
                    MANIFEST_TYPE,
                    help="a manifest holds plain strings, lists and mappings; remove the tag",
                )
            if isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    stack.extend((k, v))

    def unique(self, items: list[tuple[str, Span | None]], what: str) -> None:
        seen: set[str] = set()
        for name, span in items:
            if name in seen:
                raise InputError(f"{what} `{name}` is declared twice", span=span, code=MANIFEST_DUPLICATE)
            seen.add(name)

    def options(self, node: yaml.Node) -> Options:
        fields = {f.name: f for f in dataclasses.fields(Options)}
        m = self.mapping(node, "options", tuple(fields))
        values: dict[str, Any] = {}
        defaults = Options()
        for name, (_, v) in m.items():
            current = getattr(defaults, name)
            if isinstance(current, bool):
                values[name] = self.boolean(v, f"option `{name}`")
            elif isinstance(current, Enum):
                text = self.scalar(v, f"option `{name}`")
                enum_type = type(current)
                choice = next((e for e in enum_type if text in (e.value, e.name.lower())), None)
                if choice is None:
                    raise self.fail(
                        v,
                        f"option `{name}` must be one of " + ", ".join(f"`{e.value}`" for e in enum_type),
                        MANIFEST_TYPE,
                    )
                values[name] = choice
            elif isinstance(current, tuple):
                values[name] = self.strings(v, f"option `{name}`")
            else:  # pragma: no cover - every Options field is a bool, an enum or a list of strings
                values[name] = self.scalar(v, f"option `{name}`")
        return dataclasses.replace(defaults, **values)

    def organization(self, node: yaml.Node) -> Organization:
        m = self.mapping(
            node,
            "an organization",
            ("id", "root", "management_account", "scps", "rcps"),
            ("id", "root", "management_account"),
        )
        org_id = self.scalar(m["id"][1], "organization id")
        if not re.fullmatch(r"o-[a-z0-9]{10,32}", org_id):
            raise self.fail(
                m["id"][1],
                f"organization id `{org_id}` is not of the form `o-` + 10-32 lowercase letters or digits",
                MANIFEST_TYPE,
            )
        root_id = self.scalar(m["root"][1], "organization root")
        mgmt = self.account_id(m["management_account"][1], "management_account")

        def attached(field: str, kind: PolicyKind) -> dict[str, tuple[PolicyDocument, ...]]:
            if field not in m:
                return {}
            tnode = m[field][1]
            if not isinstance(tnode, yaml.MappingNode):
                raise self.fail(
                    tnode,
                    f"`{field}` must map targets (root, OU or account ids) to policy files",
                    MANIFEST_TYPE,
                )
            out: dict[str, tuple[PolicyDocument, ...]] = {}
            for k, v in tnode.value:
                target = self.scalar(k, f"a `{field}` target")
                if not (target == root_id or target.startswith("ou-") or _ACCOUNT_ID.fullmatch(target)):
                    raise self.fail(
                        k,
                        f"`{field}` target `{target}` is not the root `{root_id}`, an OU id or an account id",
                        MANIFEST_REFERENCE,
                    )
                out[target] = self.policies_of(v, kind, f"{field.upper()[:-1]} of `{target}`")
            return out

        return Organization(
            org_id,
            root_id,
            mgmt,
            attached("scps", PolicyKind.SCP),
            attached("rcps", PolicyKind.RCP),
            span=self.span(node),
        )

    def account(self, node: yaml.Node, orgs: dict[str, str]) -> Account:
        m = self.mapping(
            node, "an account", ("id", "organization", "ou_path", "enabled_regions", "iam_known",
                                 "block_public_access"), ("id",)
        )
        acct = self.account_id(m["id"][1], "account id")
        org = None
        if "organization" in m:
            org = self.scalar(m["organization"][1], "organization")
            if org not in orgs:
                raise self.fail(
                    m["organization"][1], f"organization `{org}` is not declared", MANIFEST_REFERENCE
                )
        ou_path = self.strings(m["ou_path"][1], "ou_path") if "ou_path" in m else ()
        if ou_path and org is None:
            raise self.fail(m["ou_path"][1], "ou_path needs an organization", MANIFEST_REFERENCE)
        if ou_path and org is not None and ou_path[0] != orgs[org]:
            raise self.fail(
                m["ou_path"][1],
                f"ou_path must start at the root `{orgs[org]}` of `{org}`, not `{ou_path[0]}`",
                MANIFEST_REFERENCE,
            )
        regions = (
            frozenset(self.strings(m["enabled_regions"][1], "enabled_regions"))
            if "enabled_regions" in m
            else None
        )
        iam_known = self.boolean(m["iam_known"][1], "iam_known") if "iam_known" in m else True
        bpa = self.block_public_access(m["block_public_access"][1]) if "block_public_access" in m else None
        return Account(acct, org, ou_path, regions, iam_known, span=self.span(node), block_public_access=bpa)

    def block_public_access(self, node: yaml.Node) -> BlockPublicAccess:
        fields = tuple(f.name for f in dataclasses.fields(BlockPublicAccess))
        m = self.mapping(node, "block_public_access", fields)
        return BlockPublicAccess(**{f: self.boolean(v, f) for f, (_, v) in m.items()})

    def principal(self, node: yaml.Node) -> Principal:
        m = self.mapping(node, "a principal", ("arn", "policies", "boundary", "tags", "unique_id", "trust_policy"),
                         ("arn",))
        arn_node = m["arn"][1]
        arn = self.scalar(arn_node, "principal arn")
        parsed = _principal(arn)
        if isinstance(parsed, arns.RootArn):
            kind = PrincipalKind.ROOT
            for field in ("policies", "boundary"):
                if field in m:
                    raise self.fail(
                        m[field][0], "the root user has no identity policies or boundary", MANIFEST_FIELD
                    )
        elif isinstance(parsed, arns.UserArn):
            kind = PrincipalKind.USER
        elif isinstance(parsed, arns.RoleArn):
            kind = PrincipalKind.ROLE
        else:
            raise self.fail(
                arn_node,
                f"`{arn}` is not the ARN of a root user, IAM user or IAM role",
                MANIFEST_ARN,
                help="role sessions and federated users go under `sessions`",
            )
        policies = (
            self.policies_of(m["policies"][1], PolicyKind.IDENTITY, "identity policy")
            if "policies" in m
            else ()
        )
        boundary = (
            self.policy(m["boundary"][1], PolicyKind.PERMISSIONS_BOUNDARY, "permissions boundary")
            if "boundary" in m
            else None
        )
        if kind is not PrincipalKind.ROOT:
            path, _, name = arn.split(":", 5)[5].split("/", 1)[1].rpartition("/")
            user = kind is PrincipalKind.USER
            self.well_formed(arn_node, arn, "uname" if user else "role", name, "user name" if user else "role name")
            self.well_formed(arn_node, arn, "upath" if user else "rpath", f"{path}/" if path else "", "path")
        tags = self.string_map(m["tags"][1], "tags") if "tags" in m else {}
        unique_id = self.scalar(m["unique_id"][1], "unique_id") if "unique_id" in m else None
        trust = None
        if "trust_policy" in m:
            if kind is not PrincipalKind.ROLE:
                raise self.fail(m["trust_policy"][0], "only a role has a trust policy", MANIFEST_FIELD)
            trust = self.policy(m["trust_policy"][1], PolicyKind.TRUST, "trust policy")
        return Principal(arn, kind, policies, boundary, tags, unique_id, span=self.span(node), trust_policy=trust)

    def well_formed(self, node: yaml.Node, arn: str, field: str, value: str, what: str) -> None:
        """IAM's rules for names (`semantics/names.py`): user and role names 1..64 characters, role-session
        names 2..64, federated-user names 2..32, of `[A-Za-z0-9_+=,.@-]`; paths `/`-delimited segments of them.
        A request by a caller with another name cannot exist, so the symbolic core, which assumes the same
        rules, could not describe it."""
        if not names.well_formed(field, value):
            rule = names.RULES[field]
            raise self.fail(node, f"{what} `{value}` of `{arn}` is not well-formed", MANIFEST_NAME, help=rule)

    def _arn_of(self, node: yaml.Node) -> str:
        """The `arn` field of an item, if it has a plain one (to know which references a failed item breaks)."""
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == "arn" and isinstance(v, yaml.ScalarNode):
                    return str(v.value)
        return ""

    def session(self, node: yaml.Node, principals: dict[str, Principal], failed: set[str] | None = None) -> Session:
        m = self.mapping(node, "a session", ("arn", "source", "policies", "tags"), ("arn", "source"))
        arn_node, src_node = m["arn"][1], m["source"][1]
        arn = self.scalar(arn_node, "session arn")
        source = self.scalar(src_node, "session source")
        src = principals.get(source)
        if src is None and failed and source in failed:
            raise _Cascade  # the source principal has its own error already
        if src is None:
            raise self.fail(src_node, f"source `{source}` is not a declared principal", MANIFEST_REFERENCE)
        sm, sp = _principal(arn), _principal(source)
        if isinstance(sm, arns.AssumedRoleArn):
            rm = self.session_source(src_node, src, sp, PrincipalKind.ROLE, arns.RoleArn,
                                     message=f"the source of role session `{arn}` must be a role, not `{source}`")
            if sm.account != rm.account or sm.role_name != rm.name:
                raise self.fail(
                    arn_node, f"role session `{arn}` is not a session of `{source}`", MANIFEST_ARN
                )
        elif isinstance(sm, arns.FederatedUserArn):
            um = self.session_source(
                src_node, src, sp, PrincipalKind.USER, arns.UserArn,
                message=f"the source of federated user `{arn}` must be an IAM user, not `{source}`")
            if sm.account != um.account:
                raise self.fail(
                    arn_node, f"federated user `{arn}` is not in the account of `{source}`", MANIFEST_ARN
                )
        else:
            raise self.fail(
                arn_node, f"`{arn}` is not an assumed-role session or federated-user ARN", MANIFEST_ARN
            )
        name = arn.rsplit("/", 1)[1]
        if isinstance(sm, arns.FederatedUserArn):
            self.well_formed(arn_node, arn, "fed", name, "federated-user name")
        else:
            self.well_formed(arn_node, arn, "sess", name, "role-session name")
        policies = (
            self.policies_of(m["policies"][1], PolicyKind.SESSION, "session policy")
            if "policies" in m
            else ()
        )
        tags = self.string_map(m["tags"][1], "tags") if "tags" in m else {}
        return Session(arn, source, policies, tags, span=self.span(node))

    def session_source(self, node: yaml.Node, src: Principal, parsed: arns.PrincipalArn | None,
                       kind: PrincipalKind, arn_type: type[_A], *, message: str) -> _A:
        """The parsed ARN of a session's source principal, which must be of `kind` with an `arn_type` ARN."""
        if src.kind is not kind or not isinstance(parsed, arn_type):
            raise self.fail(node, message, MANIFEST_ARN)
        return parsed

    def key(self, node: yaml.Node) -> Key:
        fields = (
            "arn",
            "policy",
            "grants",
            "aliases",
            "tags",
            "key_spec",
            "key_usage",
            "origin",
            "multi_region",
            "aws_managed",
        )
        m = self.mapping(node, "a key", fields, ("arn", "policy"))
        arn_node = m["arn"][1]
        arn = self.scalar(arn_node, "key arn")
        km = arns.parse_kms(arn, strict=True)
        if not isinstance(km, arns.KeyArn):
            raise self.fail(
                arn_node,
                f"`{arn}` is not a KMS key ARN",
                MANIFEST_ARN,
                help="expected `arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`",
            )
        policy = self.policy(m["policy"][1], PolicyKind.KEY_POLICY, "key policy", key_account=km.account)
        aliases = self.strings(m["aliases"][1], "aliases") if "aliases" in m else ()
        for n, a in zip(
            self.sequence(m["aliases"][1], "aliases") if "aliases" in m else [], aliases, strict=True
        ):
            if not a.startswith("alias/"):
                raise self.fail(n, f"alias `{a}` must start with `alias/`", MANIFEST_TYPE)
        tags = self.string_map(m["tags"][1], "tags") if "tags" in m else {}
        text: Callable[[str, str], str] = lambda f, d: self.scalar(m[f][1], f) if f in m else d  # noqa: E731
        grants = (
            tuple(self.grant(n) for n in self.sequence(m["grants"][1], "grants")) if "grants" in m else ()
        )
        return Key(
            arn,
            policy,
            grants,
            aliases,
            tags,
            text("key_spec", "SYMMETRIC_DEFAULT"),
            text("key_usage", "ENCRYPT_DECRYPT"),
            text("origin", "AWS_KMS"),
            self.boolean(m["multi_region"][1], "multi_region") if "multi_region" in m else False,
            self.boolean(m["aws_managed"][1], "aws_managed") if "aws_managed" in m else False,
            span=self.span(node),
        )

    def resource(self, node: yaml.Node) -> Resource:
        from reasoner.semantics.resources import POLICY_TYPES, SHARED_BY_ATTRIBUTE, resource_type_of

        m = self.mapping(node, "a resource", ("arn", "account", "policy", "tags", "block_public_access",
                                              "shared_with", "attributes"), ("arn",))
        arn_node = m["arn"][1]
        arn = self.scalar(arn_node, "resource arn")
        rtype = resource_type_of(arn)
        if rtype is None or (rtype.service, rtype.name) not in POLICY_TYPES:
            what = f"a {rtype.label}" if rtype is not None else "not an ARN of a known resource type"
            raise self.fail(
                arn_node, f"`{arn}` is {what}: `resources` lists resources with resource-based policies",
                MANIFEST_ARN, help="supported: " + ", ".join(sorted(set(POLICY_TYPES.values()))),
            )
        if (rtype.service, rtype.name) == ("kms", "key"):
            raise self.fail(arn_node, f"`{arn}` is a KMS key: declare it under `keys`", MANIFEST_ARN)
        if (rtype.service, rtype.name) == ("iam", "role"):
            raise self.fail(arn_node, f"`{arn}` is a role: declare it under `principals` with its "
                            "`trust_policy`", MANIFEST_ARN)
        in_arn = arn.split(":", 5)[4]
        if "account" in m:
            account = self.account_id(m["account"][1], "resource account")
            if in_arn and in_arn != account:
                raise self.fail(m["account"][1], f"account `{account}` is not the account `{in_arn}` of the ARN",
                                MANIFEST_REFERENCE)
        elif in_arn:
            account = in_arn
        else:
            raise self.fail(node, f"the ARN `{arn}` names no account: give the owner as `account`",
                            MANIFEST_FIELD)
        shared = (rtype.service, rtype.name) in SHARED_BY_ATTRIBUTE
        if "policy" in m and shared:
            raise self.fail(m["policy"][0], f"a {rtype.label} has no resource-based policy: use `shared_with`",
                            MANIFEST_FIELD)
        if "shared_with" in m and not shared:
            raise self.fail(m["shared_with"][0], f"a {rtype.label} is not shared by attribute", MANIFEST_FIELD)
        if "block_public_access" in m and rtype.service != "s3":
            raise self.fail(m["block_public_access"][0], "`block_public_access` is a setting of S3 buckets",
                            MANIFEST_FIELD)
        policy = self.policy(m["policy"][1], PolicyKind.RESOURCE, "resource policy") if "policy" in m else None
        shared_with: tuple[str, ...] = ()
        if "shared_with" in m:
            values = []
            for n in self.sequence(m["shared_with"][1], "shared_with"):
                text = self.scalar(n, "each entry of shared_with")
                values.append(text if text == "all" else self.account_id(n, "each entry of shared_with"))
            shared_with = tuple(values)
        attributes: dict[str, str] = {}
        if "attributes" in m:
            from reasoner.semantics.environment import RESOURCE_ATTRIBUTES

            anode = m["attributes"][1]
            if not isinstance(anode, yaml.MappingNode):
                raise self.fail(anode, "`attributes` must be a mapping", MANIFEST_TYPE)
            for k, v in anode.value:
                name = self.scalar(k, "an attribute name")
                allowed = RESOURCE_ATTRIBUTES.get(name)
                if allowed is None:
                    raise self.fail(k, f"unknown resource attribute `{name}`", MANIFEST_FIELD,
                                    help="expected one of: " + ", ".join(RESOURCE_ATTRIBUTES))
                value = self.scalar(v, f"attribute `{name}`")
                value = value.lower() if value.lower() in ("true", "false") else value
                if value not in allowed:
                    raise self.fail(v, f"attribute `{name}` must be one of " + ", ".join(f"`{a}`" for a in allowed),
                                    MANIFEST_TYPE)
                attributes[name] = value
        return Resource(
            arn,
            policy,
            account,
            self.string_map(m["tags"][1], "tags") if "tags" in m else {},
            self.block_public_access(m["block_public_access"][1]) if "block_public_access" in m else None,
            shared_with,
            span=self.span(node),
            attributes=attributes,
        )

    def vpc_endpoint(self, node: yaml.Node) -> VpcEndpoint:
        m = self.mapping(node, "a VPC endpoint", ("id", "vpc", "service", "account", "policy", "type"),
                         ("id", "vpc", "service"))
        endpoint = self.scalar(m["id"][1], "VPC endpoint id")
        if not re.fullmatch(r"vpce-[0-9a-f]{8,17}", endpoint):
            raise self.fail(m["id"][1], f"`{endpoint}` is not a VPC endpoint id (`vpce-` + 8-17 hex digits)",
                            MANIFEST_TYPE)
        vpc = self.scalar(m["vpc"][1], "vpc")
        if not re.fullmatch(r"vpc-[0-9a-f]{8,17}", vpc):
            raise self.fail(m["vpc"][1], f"`{vpc}` is not a VPC id (`vpc-` + 8-17 hex digits)", MANIFEST_TYPE)
        from reasoner.semantics.catalog import services

        service = self.scalar(m["service"][1], "service").lower()
        if service not in services():
            raise self.fail(m["service"][1], f"`{service}` is not a service prefix of the catalogue",
                            MANIFEST_TYPE)
        account = self.account_id(m["account"][1], "account") if "account" in m else ""
        policy = self.policy(m["policy"][1], PolicyKind.ENDPOINT, "endpoint policy") if "policy" in m else None
        kind = self.scalar(m["type"][1], "type") if "type" in m else ""
        if kind not in ("", "gateway", "interface"):
            raise self.fail(m["type"][1], "`type` must be `gateway` or `interface`", MANIFEST_TYPE)
        return VpcEndpoint(endpoint, vpc, service, account, policy, span=self.span(node), type=kind)

    def grant(self, node: yaml.Node) -> Grant:
        fields = (
            "grantee",
            "operations",
            "encryption_context_equals",
            "encryption_context_subset",
            "source_arn",
            "retiring_principal",
            "name",
        )
        m = self.mapping(node, "a grant", fields, ("grantee", "operations"))
        from reasoner.semantics.catalog import KMS_GRANT_OPERATIONS

        ops: set[str] = set()
        for n in self.sequence(m["operations"][1], "operations"):
            op = self.scalar(n, "a grant operation")
            name = op if op.startswith("kms:") else f"kms:{op}"
            if name not in KMS_GRANT_OPERATIONS:
                raise self.fail(
                    n,
                    f"`{op}` is not a grant operation",
                    MANIFEST_TYPE,
                    help="grant operations: " + ", ".join(sorted(o[4:] for o in KMS_GRANT_OPERATIONS)),
                )
            ops.add(name)
        if "encryption_context_equals" in m and "encryption_context_subset" in m:
            raise self.fail(
                m["encryption_context_subset"][0],
                "a grant has at most one encryption-context constraint",
                MANIFEST_FIELD,
            )

        def opt(field: str) -> str | None:
            return self.scalar(m[field][1], field) if field in m else None

        return Grant(
            grantee=self.scalar(m["grantee"][1], "grantee"),
            operations=frozenset(ops),
            encryption_context_equals=self.string_map(
                m["encryption_context_equals"][1], "encryption_context_equals"
            )
            if "encryption_context_equals" in m
            else None,
            encryption_context_subset=self.string_map(
                m["encryption_context_subset"][1], "encryption_context_subset"
            )
            if "encryption_context_subset" in m
            else None,
            source_arn=opt("source_arn"),
            retiring_principal=opt("retiring_principal"),
            name=opt("name"),
            span=self.span(node),
        )
