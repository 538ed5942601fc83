"""Property-check and findings latency per service, on environments of every resource type (issue 13).

Input: the corpus directory (`resource-policies/`: each file one resource-based policy, its `index.json` entry giving
the CloudFormation type of the resource it is attached to, e.g. `AWS::SQS::Queue`, `AWS::IAM::Role (trust)`), and
generated policies for the types the corpus has few of (`MIN_ENVIRONMENTS`: Lambda, DynamoDB, EFS, S3 directory
buckets, snapshots shared by attribute).
Output: `run(corpus_dir, quick=False) -> dict` (shape of benchmarks/README.md): per service (`SERVICES`), the cold
compile + first property (`first_check`), further properties on the compiled environment (`further_check`) and
`findings` per resource, each p50 / p99 / max in ms, the number of environments (corpus and generated), and the
verdicts of the first property.
Guarantee: the timed calls are the public `check` and `findings`; every REFUTED verdict inside has been replayed by the
evaluator (that is what `check` does). A corpus policy becomes one environment by `corpus_environment`: template
placeholders instantiated (`bench_findings.instantiate`: the stack's own account is the owner 111122223333), a
placeholder standing for the resource in `Resource` replaced by the resource's ARN (and an ECR statement without
`Resource` given the repository's ARN, §ECR.1), the account of the resource the
policy names renamed to 111122223333 everywhere (a consistent renaming of an account id changes no decision), then
parsed with the structure checks only (`parse_document`, as the key-policy benchmarks do); the resource is the one the
policy names when it names one of its type, else a fixed ARN of the type. Generated policies (`generated_policy`) are
`random.Random(seed)` draws over the type's actions and the usual principal forms, byte-identical everywhere.

Also imported by the corpus sweep tests (tests/corpus/test_corpus_resources.py) for the same environments.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OWNER = "111122223333"
EXTERNAL = "444455556666"
REGION = "us-east-1"
ORG = "o-abcde12345"
MIN_ENVIRONMENTS = 20  # a type with fewer corpus policies gets generated ones up to this count
CHECK_TIMEOUT_S = 10.0
FINDINGS_TIMEOUT_S = 10.0  # a bound per environment (the slowest corpus policy takes about 2 s since issue 13 item 7)


@dataclass(frozen=True)
class ResourceKind:
    """A resource type of the benchmark: its CloudFormation-style `label`, the corpus `resource_type` values that
    hold its policies, the service section it is reported in, a fixed ARN, the regex of an ARN of the type a policy
    may name (group 1: the resource's ARN, group 2: its account), and the actions generated policies and the further
    properties use."""

    label: str
    service: str
    arn: str
    actions: tuple[str, ...]
    corpus: tuple[str, ...] = ()
    own_arn: str = ""
    services: tuple[str, ...] = ()
    shared: bool = False

    @property
    def trust(self) -> bool:
        return self.label == "AWS::IAM::Role"

    @property
    def key(self) -> bool:
        return self.label == "AWS::KMS::Key"


KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("AWS::S3::Bucket", "s3", "arn:aws:s3:::corpus-bucket",
                 ("s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "s3:GetBucketPolicy"),
                 ("AWS::S3::Bucket",), r"(arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/.*)?()",
                 ("cloudtrail.amazonaws.com", "logging.s3.amazonaws.com")),
    ResourceKind("AWS::S3Express::DirectoryBucket", "s3express",
                 f"arn:aws:s3express:{REGION}:{OWNER}:bucket/corpus--use1-az4--x-s3",
                 ("s3express:CreateSession", "s3express:GetBucketPolicy", "s3express:DeleteBucket")),
    ResourceKind("AWS::IAM::Role", "iam-role", f"arn:aws:iam::{OWNER}:role/corpus-role",
                 ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "sts:TagSession"),
                 ("AWS::IAM::Role (trust)",), "", ("ec2.amazonaws.com", "lambda.amazonaws.com")),
    ResourceKind("AWS::KMS::Key", "kms", f"arn:aws:kms:{REGION}:{OWNER}:key/00000000-0000-0000-0000-000000000000",
                 ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:PutKeyPolicy"), ("AWS::KMS::Key",)),
    ResourceKind("AWS::Lambda::Function", "lambda", f"arn:aws:lambda:{REGION}:{OWNER}:function:corpus-function",
                 ("lambda:InvokeFunction", "lambda:GetFunction", "lambda:InvokeFunctionUrl"),
                 ("AWS::Lambda::Function",),
                 r"(arn:aws:lambda:[a-z0-9-]+:(\d{12}):function:[A-Za-z0-9_-]+)(?::[A-Za-z0-9_$-]+)?",
                 ("s3.amazonaws.com", "events.amazonaws.com", "apigateway.amazonaws.com")),
    ResourceKind("AWS::Lambda::LayerVersion", "lambda", f"arn:aws:lambda:{REGION}:{OWNER}:layer:corpus-layer:1",
                 ("lambda:GetLayerVersion",), ("AWS::Lambda::LayerVersion",),
                 r"(arn:aws:lambda:[a-z0-9-]+:(\d{12}):layer:[A-Za-z0-9_-]+:\d+)"),
    ResourceKind("AWS::SQS::Queue", "sqs", f"arn:aws:sqs:{REGION}:{OWNER}:corpus-queue",
                 ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
                 ("AWS::SQS::Queue",), r"(arn:aws:sqs:[a-z0-9-]+:(\d{12}):[A-Za-z0-9_.-]+)",
                 ("sns.amazonaws.com", "s3.amazonaws.com", "events.amazonaws.com")),
    ResourceKind("AWS::SNS::Topic", "sns", f"arn:aws:sns:{REGION}:{OWNER}:corpus-topic",
                 ("sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"),
                 ("AWS::SNS::Topic",), r"(arn:aws:sns:[a-z0-9-]+:(\d{12}):[A-Za-z0-9_.-]+)",
                 ("events.amazonaws.com", "cloudwatch.amazonaws.com", "s3.amazonaws.com")),
    ResourceKind("AWS::SecretsManager::Secret", "secretsmanager",
                 f"arn:aws:secretsmanager:{REGION}:{OWNER}:secret:corpus-secret-AbCdEf",
                 ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
                 ("AWS::SecretsManager::Secret",),
                 r"(arn:aws:secretsmanager:[a-z0-9-]+:(\d{12}):secret:[A-Za-z0-9/_+=.@-]+)"),
    ResourceKind("AWS::ECR::Repository", "ecr", f"arn:aws:ecr:{REGION}:{OWNER}:repository/corpus-repository",
                 ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage"), ("AWS::ECR::Repository",),
                 r"(arn:aws:ecr:[a-z0-9-]+:(\d{12}):repository/[a-z0-9/._-]+)",
                 ("codebuild.amazonaws.com", "lambda.amazonaws.com")),
    ResourceKind("AWS::EFS::FileSystem", "efs",
                 f"arn:aws:elasticfilesystem:{REGION}:{OWNER}:file-system/fs-0123456789abcdef0",
                 ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite",
                  "elasticfilesystem:ClientRootAccess"), ("AWS::EFS::FileSystem",),
                 r"(arn:aws:elasticfilesystem:[a-z0-9-]+:(\d{12}):file-system/fs-[0-9a-f]+)"),
    ResourceKind("AWS::DynamoDB::Table", "dynamodb", f"arn:aws:dynamodb:{REGION}:{OWNER}:table/corpus-table",
                 ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DescribeTable"),
                 ("AWS::DynamoDB::Table",), r"(arn:aws:dynamodb:[a-z0-9-]+:(\d{12}):table/[A-Za-z0-9_.-]+)"),
    ResourceKind("AWS::DynamoDB::Stream", "dynamodb",
                 f"arn:aws:dynamodb:{REGION}:{OWNER}:table/corpus-table/stream/2024-01-01T00:00:00.000",
                 ("dynamodb:GetRecords", "dynamodb:DescribeStream", "dynamodb:GetShardIterator")),
    ResourceKind("AWS::EC2::Snapshot", "snapshots", f"arn:aws:ec2:{REGION}::snapshot/snap-0123456789abcdef0",
                 ("ec2:CreateVolume", "ec2:CopySnapshot"), shared=True),
    ResourceKind("AWS::RDS::DBSnapshot", "snapshots", f"arn:aws:rds:{REGION}:{OWNER}:snapshot:corpus-snapshot",
                 ("rds:RestoreDBInstanceFromDBSnapshot", "rds:CopyDBSnapshot"), shared=True),
    ResourceKind("AWS::RDS::DBClusterSnapshot", "snapshots",
                 f"arn:aws:rds:{REGION}:{OWNER}:cluster-snapshot:corpus-cluster-snapshot",
                 ("rds:RestoreDBClusterFromSnapshot", "rds:CopyDBClusterSnapshot"), shared=True),
)
KIND_OF_CORPUS_TYPE = {t: k for k in KINDS for t in k.corpus}
SERVICES = tuple(dict.fromkeys(k.service for k in KINDS))


# ---- corpus policies as environments -------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusPolicy:
    name: str  # folder/file
    text: str
    resource_type: str  # the index's `resource_type`
    kind: str  # the index's `kind`
    entry: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def resource_policies(corpus_dir: str | Path) -> Iterator[CorpusPolicy]:
    """Every policy of `resource-policies/` with its index entry (none when the folder is absent)."""
    root = Path(corpus_dir) / "resource-policies"
    index = root / "index.json"
    if not index.is_file():
        return
    for entry in json.loads(index.read_text(encoding="utf-8")):
        if entry.get("file"):
            text = (root / entry["file"]).read_text(encoding="utf-8")
            yield CorpusPolicy(f"resource-policies/{entry['file']}", text, str(entry.get("resource_type", "")),
                               str(entry.get("kind", "")), entry)


class Unusable(Exception):
    """A corpus policy that cannot become an environment (the reason is the message)."""


_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")


def _own_resource(kind: ResourceKind, doc: Any) -> tuple[str, str | None] | None:
    """The resource of `kind` the policy names in `Resource` (its ARN and account), when it names one without a
    wildcard or a placeholder."""
    if not kind.own_arn:
        return None
    found: dict[str, str | None] = {}
    for stmt in doc if isinstance(doc, list) else [doc]:
        if not isinstance(stmt, dict):
            continue
        values = stmt.get("Resource", [])
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, str) or "{{" in value:
                continue
            m = re.fullmatch(kind.own_arn, value.split("*", 1)[0].rstrip("/") if kind.label == "AWS::S3::Bucket"
                             else value)
            if m and not any(c in m.group(1) for c in "*?$"):
                found.setdefault(m.group(1), m.group(2) or None)
    if not found:
        return None
    arn = max(sorted(found), key=lambda a: sum(a == b for b in found))
    return arn, found[arn]


def _replace_resource_placeholders(doc: Any, arn: str, *, add_missing: bool = False) -> Any:
    """`Resource` values that are a placeholder, or a placeholder followed by `/...`, name the resource the policy is
    attached to (a bucket policy's `{{tf:aws_s3_bucket.b.arn}}/*`, a queue policy's `{{GetAtt:Queue.Arn}}`). With
    `add_missing`, a statement without `Resource` gets the resource's ARN (ECR repository policies, §ECR.1: such a
    statement applies to the repository it is attached to; our parser rejects the omission, POL012)."""
    def fix(value: Any) -> Any:
        if isinstance(value, str):
            m = re.fullmatch(r"\{\{[^{}]*\}\}(/.*)?", value)
            if m:
                return arn + (m.group(1) or "")
        return value

    statements = doc.get("Statement") if isinstance(doc, dict) else None
    for stmt in statements if isinstance(statements, list) else [statements]:
        if isinstance(stmt, dict):
            if add_missing and "Resource" not in stmt and "NotResource" not in stmt:
                stmt["Resource"] = arn
            for name in ("Resource", "NotResource"):
                if name in stmt:
                    v = stmt[name]
                    stmt[name] = [fix(x) for x in v] if isinstance(v, list) else fix(v)
    return doc


def corpus_environment(policy: CorpusPolicy) -> tuple[Any, ResourceKind, str]:
    """The environment of one corpus policy (module docstring): its resource, owner 111122223333 declared (its IAM
    given: none), nothing else; with the resource's kind and ARN. Raises `Unusable` for a type without a
    resource-based policy model or a policy whose structure does not parse."""
    from benchmarks.bench_findings import instantiate
    from reasoner.front.ast import PolicyKind
    from reasoner.front.parse import parse_document
    from reasoner.semantics.environment import Account, Environment, Key, Principal, PrincipalKind, Resource

    kind = KIND_OF_CORPUS_TYPE.get(policy.resource_type)
    if kind is None:
        raise Unusable(f"no resource-based policy model for {policy.resource_type}")
    text = instantiate(policy.text)
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise Unusable(f"not JSON: {exc}") from None
    arn = kind.arn
    own = _own_resource(kind, raw.get("Statement") if isinstance(raw, dict) else None)
    if own is not None:
        arn, account = own
        if account and account != OWNER:
            text = re.sub(rf"(?<!\d){account}(?!\d)", OWNER, text)
            raw = json.loads(text)
            arn = arn.replace(account, OWNER)
    raw = _replace_resource_placeholders(raw, arn, add_missing=kind.label == "AWS::ECR::Repository")
    text = json.dumps(raw, indent=1)
    pkind = PolicyKind.TRUST if kind.trust else PolicyKind.KEY_POLICY if kind.key else PolicyKind.RESOURCE
    doc, diags = parse_document(text, file=policy.name, kind=pkind)
    if doc is None:
        first = next((d for d in diags if d.is_error), None)
        raise Unusable(f"does not parse as a {pkind.value} policy: {first.code if first else '?'}")
    accounts = (Account(OWNER),)
    if kind.trust:
        role = Principal(arn, PrincipalKind.ROLE, trust_policy=doc)
        return Environment(principals=(role,), accounts=accounts), kind, arn
    if kind.key:
        return Environment(keys=(Key(arn, doc),), accounts=accounts), kind, arn
    return Environment(resources=(Resource(arn, doc, OWNER),), accounts=accounts), kind, arn


def own_actions(env: Any) -> tuple[str, ...]:
    """The action patterns the environment's resource-based policy names (`Action` of its statements), `*` when it
    names none (NotAction only)."""
    out: list[str] = []
    docs = [k.policy for k in env.keys] + [r.policy for r in env.resources if r.policy is not None]
    docs += [p.trust_policy for p in env.principals if p.trust_policy is not None]
    for doc in docs:
        for st in doc.statements:
            if st.action is not None and not st.action.negated:
                out += [v.text for v in st.action.patterns if v.text not in out]
    return tuple(out) or ("*",)


# ---- generated policies ---------------------------------------------------------------------------------------


def generated_policy(kind: ResourceKind, seed: int) -> dict[str, Any]:
    """A resource-based policy for `kind`: 1 to 6 statements over its actions with the usual principals (the owner,
    another account, a role, `*` restricted to an organization or a source, a service) and conditions."""
    rnd = random.Random(f"{kind.label}:{seed}")
    statements: list[dict[str, Any]] = []
    resource = kind.arn + "/*" if kind.label == "AWS::S3::Bucket" else kind.arn
    for i in range(rnd.randint(1, 6)):
        effect = "Deny" if rnd.random() < 0.2 else "Allow"
        form = rnd.randrange(6)
        principal: Any
        condition: dict[str, Any] = {}
        if form == 0:
            principal = {"AWS": f"arn:aws:iam::{OWNER}:root"}
        elif form == 1:
            principal = {"AWS": rnd.choice([EXTERNAL, f"arn:aws:iam::{EXTERNAL}:root"])}
        elif form == 2:
            principal = {"AWS": f"arn:aws:iam::{rnd.choice([OWNER, EXTERNAL])}:role/app-{rnd.randrange(3)}"}
        elif form == 3 and kind.services:
            principal = {"Service": rnd.choice(kind.services)}
            condition = {"StringEquals": {"aws:SourceAccount": OWNER}}
        else:
            principal = "*"
            condition = rnd.choice([{"StringEquals": {"aws:PrincipalOrgID": ORG}},
                                    {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
                                    {"Bool": {"aws:SecureTransport": "false"}}, {}])
        if kind.trust and form == 5:
            principal = {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}
            condition = {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:example/*"}}
        actions = rnd.sample(kind.actions, rnd.randint(1, len(kind.actions)))
        if rnd.random() < 0.2:
            actions = [kind.actions[0].split(":")[0] + ":*"]
        stmt: dict[str, Any] = {"Sid": f"S{i}", "Effect": effect, "Principal": principal, "Action": actions}
        if not kind.trust:
            stmt["Resource"] = "*" if kind.key else resource
        if condition:
            stmt["Condition"] = condition
        statements.append(stmt)
    return {"Version": "2012-10-17", "Statement": statements}


def generated_environment(kind: ResourceKind, seed: int) -> Any:
    """The environment of one generated policy (or, for a snapshot, of a sharing attribute)."""
    from reasoner.front.ast import PolicyKind
    from reasoner.front.parse import parse_policy
    from reasoner.semantics.environment import Account, Environment, Key, Principal, PrincipalKind, Resource

    accounts = (Account(OWNER),)
    if kind.shared:
        rnd = random.Random(f"{kind.label}:{seed}")
        shared = tuple(rnd.sample([EXTERNAL, "777788889999", "all", "123456789012"], rnd.randint(1, 3)))
        return Environment(resources=(Resource(kind.arn, None, OWNER, shared_with=shared),), accounts=accounts)
    text = json.dumps(generated_policy(kind, seed), indent=1)
    name = f"generated/{kind.label}-{seed}.json"
    if kind.trust:
        doc = parse_policy(text, file=name, kind=PolicyKind.TRUST)
        return Environment(principals=(Principal(kind.arn, PrincipalKind.ROLE, trust_policy=doc),), accounts=accounts)
    if kind.key:
        doc = parse_policy(text, file=name, kind=PolicyKind.KEY_POLICY, key_account=OWNER)
        return Environment(keys=(Key(kind.arn, doc),), accounts=accounts)
    doc = parse_policy(text, file=name, kind=PolicyKind.RESOURCE)
    return Environment(resources=(Resource(kind.arn, doc, OWNER),), accounts=accounts)


def environments(corpus_dir: str | Path | None, limit: int | None = None) -> dict[str, list[tuple[str, Any, str]]]:
    """Per service: (name, environment, resource ARN) of every usable corpus policy of its types (the first `limit`
    of each type when given), then generated ones for each type up to `MIN_ENVIRONMENTS` (or `limit`)."""
    out: dict[str, list[tuple[str, Any, str]]] = {s: [] for s in SERVICES}
    per_kind: dict[str, int] = {k.label: 0 for k in KINDS}
    for policy in resource_policies(corpus_dir) if corpus_dir is not None else ():
        kind = KIND_OF_CORPUS_TYPE.get(policy.resource_type)
        if kind is None or (limit is not None and per_kind[kind.label] >= limit):
            continue
        try:
            env, kind, arn = corpus_environment(policy)
        except Unusable:
            continue
        out[kind.service].append((policy.name, env, arn))
        per_kind[kind.label] += 1
    floor = MIN_ENVIRONMENTS if limit is None else min(limit, MIN_ENVIRONMENTS)
    for kind in KINDS:
        for seed in range(max(0, floor - per_kind[kind.label])):
            out[kind.service].append((f"generated/{kind.label}-{seed}", generated_environment(kind, seed), kind.arn))
    return out


# ---- measurements ---------------------------------------------------------------------------------------------


def properties(env: Any, arn: str) -> list[tuple[str, Any]]:
    """The first property (cold: compile included) and the further ones of one environment."""
    from reasoner.analyses.properties import (
        AccessNotGranted,
        CanAccess,
        NoNewAccess,
        OnlyPrincipalsCan,
        PrincipalScope,
    )
    from reasoner.semantics.resources import resource_type_of

    rt = resource_type_of(arn)
    kind = next((k for k in KINDS if rt is not None and k.label == rt.label), KINDS[0])
    outside = PrincipalScope.outside_account(OWNER)
    first = kind.actions[0]
    return [
        ("own_actions", AccessNotGranted(outside, own_actions(env), ("*",))),
        ("first_action", AccessNotGranted(outside, (first,), ("*",))),
        ("only_owner_root", OnlyPrincipalsCan((f"arn:aws:iam::{OWNER}:root",), kind.actions, ("*",))),
        ("outside_org", AccessNotGranted(PrincipalScope.outside_organization(ORG), kind.actions, ("*",))),
        ("owner_root_can", CanAccess(f"arn:aws:iam::{OWNER}:root", (first,), ("*",))),
        ("no_new_access", NoNewAccess(env, kind.actions, ("*",))),
    ]


def _percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def _lat(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}
    return {"p50_ms": _percentile(xs, 0.5) * 1000, "p99_ms": _percentile(xs, 0.99) * 1000, "max_ms": max(xs) * 1000}


def measure(name: str, env: Any, arn: str) -> dict[str, Any]:
    """One environment: cold compile + first property, each further property, findings; verdicts."""
    from reasoner.analyses.compiled import compile_environment
    from reasoner.analyses.findings import findings
    from reasoner.analyses.pipeline import check
    from reasoner.errors import InputError, ReasonerError, UnsupportedFeatureError

    out: dict[str, Any] = {"further": [], "verdicts": [], "errors": []}
    t = time.perf_counter()
    try:
        compiled = compile_environment(env)
    except UnsupportedFeatureError as exc:
        out["errors"].append(f"{name}: unsupported: {exc.message}")
        compiled = None
    for i, (label, prop) in enumerate(properties(env, arn)):
        if compiled is None:
            break
        t0 = time.perf_counter() if i else t
        try:
            r = check(compiled, prop, timeout=CHECK_TIMEOUT_S)
        except InputError as exc:  # the property names nothing of the domain (e.g. an action of another service)
            out["errors"].append(f"{name}: {label}: {exc.message}")
            continue
        except ReasonerError as exc:  # an internal error: no figure for it, the note names the policy
            out["errors"].append(f"{name}: {label}: {exc.message}")
            continue
        dt = time.perf_counter() - t0
        if i == 0:
            out["first"] = dt
            out["first_verdict"] = r.verdict.value
        else:
            out["further"].append(dt)
        out["verdicts"].append(r.verdict.value)
    t = time.perf_counter()
    try:
        result = findings(env, timeout=FINDINGS_TIMEOUT_S)
    except ReasonerError as exc:  # an internal error: no figure for it, the note names the policy
        out["errors"].append(f"{name}: findings: {exc.message}")
        out["findings_failed"] = True
        return out
    out["findings"] = time.perf_counter() - t
    out["findings_complete"] = all(k.complete.value == "PROVED" for k in result.keys)
    out["external"] = any(k.external for k in result.keys)
    for k in result.keys:
        if k.complete.value != "PROVED":
            out["errors"].append(f"{name}: findings incomplete: {k.reason}")
    return out


def run(corpus_dir: str | Path | None, quick: bool = False, limit: int | None = None) -> dict[str, Any]:
    """The figures per service (module docstring). `quick`: at most 5 environments per type; `limit`: at most that
    many (the runner's smoke budget)."""
    from reasoner.analyses.pipeline import check  # noqa: F401 - fail early when the core is missing

    limit = limit if limit is not None else 5 if quick else None
    envs = environments(corpus_dir, limit)
    for kind in KINDS:  # warm-up, not timed: the catalogue of every service, the grammar, Z3
        measure("warm-up", generated_environment(kind, 10_000), kind.arn)
    figures: dict[str, Any] = {}
    notes: list[str] = []
    problems: list[str] = []  # properties naming no action of the domain, UNKNOWN findings, internal errors
    for service, items in envs.items():
        first: list[float] = []
        further: list[float] = []
        found: list[float] = []
        verdicts: dict[str, int] = {}
        corpus = sum(not n.startswith("generated/") for n, _, _ in items)
        complete = external = failed = 0
        for name, env, arn in items:
            m = measure(name, env, arn)
            problems += m["errors"]
            if "first" in m:
                first.append(m["first"])
                verdicts[m["first_verdict"]] = verdicts.get(m["first_verdict"], 0) + 1
            further += m["further"]
            if m.get("findings_failed"):
                failed += 1
                continue
            found.append(m["findings"])
            complete += m["findings_complete"]
            external += m["external"]
        figures[service] = {
            "environments": len(items), "corpus_policies": corpus,
            "first_check": _lat(first), "further_check": _lat(further), "findings": _lat(found),
            **{f"first_{v.lower()}": n for v, n in sorted(verdicts.items())},
            "findings_complete": complete, "with_external_access": external,
            **({"findings_internal_errors": failed} if failed else {}),
        }
        types = sorted({k.label for k in KINDS if k.service == service})
        notes.append(f"{service}: {len(items)} environments ({corpus} from the corpus) of {', '.join(types)}")
    notes += problems[:12] + ([f"... and {len(problems) - 12} more"] if len(problems) > 12 else [])
    notes.append("first_check: compile + \"no principal outside account 111122223333 can <the policy's own "
                 "actions> on all resources\"; further_check: 5 more properties on the compiled environment; "
                 "findings: `findings` of the one resource")
    if limit is not None:
        notes.append(f"at most {limit} environments per type (corpus policies first, then generated ones)")
    return {"figures": figures, "notes": notes}


if __name__ == "__main__":  # pragma: no cover - manual runs
    import sys

    default = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else default, "--quick" in sys.argv), indent=2))
