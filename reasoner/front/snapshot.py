"""`reasoner snapshot`: a live AWS account -> a manifest directory a user can commit and diff.

Input: boto3 clients (the optional extra `reasoner[aws]`) for one account and Region, made by a factory
(`client(service)`), so that tests point them at a local moto server.
Output: `snapshot(client, out_dir) -> SnapshotReport`, which writes `out_dir/environment.yaml` (the manifest of
docs/environment.md) and one pretty, key-sorted JSON file per policy under `out_dir` (`keys/`, `iam/`, `scp/`,
`rcp/`, `resources/`), and `out_dir/failures.json` when anything could not be read. It reads KMS (keys, key
policies, grants, aliases, tags), IAM (`GetAccountAuthorizationDetails`: users, groups, roles, managed policies,
boundaries, trust policies), Organizations (the organization, OUs, accounts, SCPs, RCPs and their targets) and
the resource policies of S3 buckets (and their public access blocks), SQS queues, SNS topics, Secrets Manager
secrets, Lambda functions and ECR repositories.
Guarantee: every list call is paginated; throttling is retried with exponential backoff (botocore's adaptive
retries, then `MAX_ATTEMPTS` of our own); every call that still fails is recorded (service, operation, resource,
error code) in the report and in `failures.json`, and the manifest says what it lacks (an account whose IAM could
not be read is `iam_known: false`; a key whose policy could not be read is left out, not given an empty policy).
Nothing is dropped silently. The output is deterministic for one account state (sorted, no timestamps).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from reasoner.errors import InputError, Severity, register_code

MISSING_EXTRA = register_code("SNAP001", Severity.ERROR, "the optional extra `reasoner[aws]` is not installed")
SNAPSHOT_FAILED = register_code("SNAP002", Severity.ERROR, "the account could not be read at all")
PARTIAL = register_code("SNAP003", Severity.WARNING, "a call of the snapshot failed (recorded in failures.json)")

#: Our own attempts at a throttled call, after botocore's.
MAX_ATTEMPTS = 5
_THROTTLING = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
               "SlowDown", "RequestThrottled", "ThrottledException"}
#: Errors that mean "there is none", not a failure.
_ABSENT = {"NoSuchBucketPolicy", "NoSuchPublicAccessBlockConfiguration", "ResourceNotFoundException",
           "RepositoryPolicyNotFoundException", "AWSOrganizationsNotInUseException", "NotFoundException"}


def boto3_clients(*, region: str | None = None, profile: str | None = None,
                  endpoint_url: str | None = None) -> Callable[[str], Any]:
    """A client factory on boto3, with adaptive retries; a one-line error naming the extra when it is missing."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise InputError("`reasoner snapshot` needs boto3: pip install 'reasoner[aws]'", code=MISSING_EXTRA) from None
    session = boto3.session.Session(profile_name=profile, region_name=region)
    config = Config(retries={"max_attempts": 10, "mode": "adaptive"})

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url, config=config)

    return client


@dataclass
class Failure:
    service: str
    operation: str
    resource: str
    code: str
    message: str

    def __str__(self) -> str:
        where = f" on `{self.resource}`" if self.resource else ""
        return f"{self.service}:{self.operation}{where} failed: {self.code} {self.message}"


@dataclass
class SnapshotReport:
    account: str
    directory: Path
    keys: int = 0
    principals: int = 0
    resources: int = 0
    failures: list[Failure] = field(default_factory=list)


class _Progress:
    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream if stream is not None and getattr(stream, "isatty", lambda: False)() else None
        self.done = 0

    def step(self, what: str) -> None:
        self.done += 1
        if self.stream is not None:
            self.stream.write(f"\r\x1b[K[{self.done}] {what[:70]}")
            self.stream.flush()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class _Reader:
    def __init__(self, client: Callable[[str], Any], report: SnapshotReport, progress: _Progress,
                 sleep: Callable[[float], None]) -> None:
        self.client_of = client
        self.clients: dict[str, Any] = {}
        self.report = report
        self.progress = progress
        self.sleep = sleep

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.client_of(service)
        return self.clients[service]

    def call(self, service: str, operation: str, resource: str = "", **kwargs: Any) -> dict[str, Any] | None:
        """One call with backoff on throttling; None (and a recorded failure) when it fails, `{}` when the
        error means the thing is absent."""
        self.progress.step(f"{service}:{operation} {resource}")
        for attempt in range(MAX_ATTEMPTS):
            try:
                out: dict[str, Any] = getattr(self.client(service), operation)(**kwargs)
                return out
            except Exception as exc:  # botocore's ClientError, EndpointConnectionError, ...
                code = _error_code(exc)
                if code in _ABSENT:
                    return {}
                if code in _THROTTLING and attempt < MAX_ATTEMPTS - 1:
                    self.sleep(min(2.0 ** attempt * 0.2, 5.0))
                    continue
                self.report.failures.append(Failure(service, operation, resource, code, _message(exc)))
                return None
        return None  # pragma: no cover - the loop returns

    def pages(self, service: str, operation: str, key: str, resource: str = "", **kwargs: Any) -> Iterator[Any]:
        """Every item under `key` of every page (a failed page is recorded and ends the listing)."""
        client = self.client(service)
        if client.can_paginate(operation):
            paginator = client.get_paginator(operation)
            iterator = iter(paginator.paginate(**kwargs))
            while True:
                self.progress.step(f"{service}:{operation} {resource}")
                try:
                    page = next(iterator)
                except StopIteration:
                    return
                except Exception as exc:
                    code = _error_code(exc)
                    if code not in _ABSENT:
                        self.report.failures.append(Failure(service, operation, resource, code, _message(exc)))
                    return
                if key:
                    yield from page.get(key, [])
                else:
                    yield page
        else:
            page = self.call(service, operation, resource, **kwargs)
            yield from (page or {}).get(key, [])


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__


def _message(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return " ".join(str(response.get("Error", {}).get("Message", "")).split())[:300]
    return " ".join(str(exc).split())[:300]


def _doc(value: Any) -> Any:
    """A policy document from an API: a dict, or JSON text (URL-encoded by IAM's raw API)."""
    if isinstance(value, dict):
        return value
    import urllib.parse

    text = str(value)
    if text.lstrip().startswith("%7B"):
        text = urllib.parse.unquote(text)
    return json.loads(text)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120] or "_"


class _Writer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: set[str] = set()

    def policy(self, rel: str, document: Any) -> str:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        self.files.add(rel)
        return rel


def _yaml_value(v: Any) -> str:
    return json.dumps(v)  # JSON scalars, lists and flow mappings are YAML


def snapshot(client: Callable[[str], Any], out_dir: str | Path, *, progress: TextIO | None = None,
             sleep: Callable[[float], None] = time.sleep) -> SnapshotReport:
    """Read the account `client` reaches and write the manifest directory `out_dir` (see the module docstring)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = SnapshotReport("", out)
    bar = _Progress(progress)
    r = _Reader(client, report, bar, sleep)
    w = _Writer(out)
    ident = r.call("sts", "get_caller_identity")
    if ident is None or "Account" not in ident:
        bar.close()
        raise InputError(f"cannot read the account: {report.failures[-1] if report.failures else 'no identity'}",
                         code=SNAPSHOT_FAILED)
    account = str(ident["Account"])
    report.account = account
    lines: list[str] = ["# A snapshot of an AWS account written by `reasoner snapshot` (docs/environment.md).", ""]
    org_lines, account_entry = _organizations(r, w, account)
    iam_ok, principal_lines = _iam(r, w, account)
    account_entry["iam_known"] = iam_ok
    key_lines = _kms(r, w, report)
    resource_lines = _resources(r, w, account, report)
    if org_lines:
        lines += ["organizations:", *org_lines, ""]
    lines += ["accounts:", "  - " + "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in account_entry.items()) + "}",
              ""]
    report.principals = len([x for x in principal_lines if x.startswith("  - arn:")])
    for title, body in (("keys", key_lines), ("principals", principal_lines), ("resources", resource_lines)):
        if body:
            lines += [f"{title}:", *body, ""]
    (out / "environment.yaml").write_text("\n".join(lines).rstrip() + "\n")
    failures_file = out / "failures.json"
    if report.failures:
        failures_file.write_text(json.dumps([f.__dict__ for f in report.failures], indent=2, sort_keys=True) + "\n")
    elif failures_file.exists():
        failures_file.unlink()
    bar.close()
    return report


def _organizations(r: _Reader, w: _Writer, account: str) -> tuple[list[str], dict[str, Any]]:
    entry: dict[str, Any] = {"id": account}
    org = r.call("organizations", "describe_organization")
    if not org or "Organization" not in org:
        return [], entry  # not in an organization (or unreadable: recorded)
    info = org["Organization"]
    org_id, mgmt = str(info["Id"]), str(info.get("MasterAccountId", ""))
    roots = list(r.pages("organizations", "list_roots", "Roots"))
    if not roots:
        return [], entry
    root = str(roots[0]["Id"])
    parent: dict[str, str] = {}
    stack = [root]
    while stack:
        current = stack.pop()
        for ou in r.pages("organizations", "list_organizational_units_for_parent", "OrganizationalUnits",
                          current, ParentId=current):
            parent[str(ou["Id"])] = current
            stack.append(str(ou["Id"]))
        for acct in r.pages("organizations", "list_accounts_for_parent", "Accounts", current, ParentId=current):
            parent[str(acct["Id"])] = current
    path = [account]
    while path[-1] in parent and len(path) < 10:
        path.append(parent[path[-1]])
    entry.update(organization=org_id, ou_path=list(reversed(path[1:])) or [root])
    lines = [f"  - id: {org_id}", f"    root: {root}", f"    management_account: {_yaml_value(mgmt)}"]
    for ptype, field_name, folder in (("SERVICE_CONTROL_POLICY", "scps", "scp"),
                                      ("RESOURCE_CONTROL_POLICY", "rcps", "rcp")):
        attached: dict[str, list[str]] = {}
        for summary in r.pages("organizations", "list_policies", "Policies", ptype, Filter=ptype):
            pid = str(summary["Id"])
            described = r.call("organizations", "describe_policy", pid, PolicyId=pid)
            if not described:
                continue
            rel = w.policy(f"{folder}/{_safe(pid)}.json", _doc(described["Policy"]["Content"]))
            for target in r.pages("organizations", "list_targets_for_policy", "Targets", pid, PolicyId=pid):
                attached.setdefault(str(target["TargetId"]), []).append(rel)
        if attached:
            lines.append(f"    {field_name}:")
            lines += [f"      {t}: {_yaml_value(sorted(files))}" for t, files in sorted(attached.items())]
    return lines, entry


def _iam(r: _Reader, w: _Writer, account: str) -> tuple[bool, list[str]]:
    users: list[Any] = []
    groups: list[Any] = []
    roles: list[Any] = []
    policies: list[Any] = []
    failed_before = len(r.report.failures)
    for page in r.pages("iam", "get_account_authorization_details", ""):
        for key, bucket in (("UserDetailList", users), ("GroupDetailList", groups), ("RoleDetailList", roles),
                            ("Policies", policies)):
            bucket.extend(page.get(key, []))
    ok = len(r.report.failures) == failed_before
    managed: dict[str, str] = {}
    for p in policies:
        default = p.get("DefaultVersionId")
        for v in p.get("PolicyVersionList", []):
            if v.get("IsDefaultVersion") or v.get("VersionId") == default:
                owner = "aws" if ":aws:policy/" in p["Arn"] else "account"
                name = p.get("PolicyName") or p["Arn"].rsplit("/", 1)[-1]
                managed[p["Arn"]] = w.policy(f"iam/managed/{owner}/{_safe(name)}.json", _doc(v["Document"]))
    group_files: dict[str, list[str]] = {}
    for g in groups:
        folder = f"iam/groups/{_safe(g['GroupName'])}"
        files = [w.policy(f"{folder}/{_safe(i['PolicyName'])}.json", _doc(i["PolicyDocument"]))
                 for i in g.get("GroupPolicyList", [])]
        files += [managed[m["PolicyArn"]] for m in g.get("AttachedManagedPolicies", []) if m["PolicyArn"] in managed]
        group_files[g["GroupName"]] = files
    lines: list[str] = []
    for kind, items, inline in (("users", users, "UserPolicyList"), ("roles", roles, "RolePolicyList")):
        for u in sorted(items, key=lambda x: x["Arn"]):
            name = u.get("UserName") or u.get("RoleName")
            files = [w.policy(f"iam/{kind}/{_safe(name)}/{_safe(i['PolicyName'])}.json", _doc(i["PolicyDocument"]))
                     for i in u.get(inline, [])]
            missing = [m["PolicyArn"] for m in u.get("AttachedManagedPolicies", []) if m["PolicyArn"] not in managed]
            files += [managed[m["PolicyArn"]] for m in u.get("AttachedManagedPolicies", [])
                      if m["PolicyArn"] in managed]
            for g in u.get("GroupList", []):
                files += group_files.get(g, [])
            for arn in missing:
                r.report.failures.append(Failure("iam", "get_account_authorization_details", u["Arn"],
                                                 "MissingManagedPolicy", f"attached policy `{arn}` is not listed"))
                ok = False
            lines.append(f"  - arn: {u['Arn']}")
            if files:
                lines.append(f"    policies: {_yaml_value(sorted(dict.fromkeys(files)))}")
            boundary = (u.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if boundary and boundary in managed:
                lines.append(f"    boundary: {managed[boundary]}")
            tags = {t["Key"]: t["Value"] for t in u.get("Tags", [])}
            if tags:
                lines.append(f"    tags: {_yaml_value(tags)}")
            if kind == "roles" and u.get("AssumeRolePolicyDocument"):
                trust = w.policy(f"iam/roles/{_safe(name)}.trust.json", _doc(u["AssumeRolePolicyDocument"]))
                lines.append(f"    trust_policy: {trust}")
    return ok, lines


def _kms(r: _Reader, w: _Writer, report: SnapshotReport) -> list[str]:
    aliases: dict[str, list[str]] = {}
    for a in r.pages("kms", "list_aliases", "Aliases"):
        if a.get("TargetKeyId"):
            aliases.setdefault(str(a["TargetKeyId"]), []).append(str(a["AliasName"]))
    lines: list[str] = []
    for k in sorted(r.pages("kms", "list_keys", "Keys"), key=lambda x: x["KeyArn"]):
        key_id, arn = str(k["KeyId"]), str(k["KeyArn"])
        meta = (r.call("kms", "describe_key", arn, KeyId=key_id) or {}).get("KeyMetadata", {})
        policy = r.call("kms", "get_key_policy", arn, KeyId=key_id, PolicyName="default")
        if not policy or "Policy" not in policy:
            continue  # recorded as a failure: a key without its policy is no input of a decision
        rel = w.policy(f"keys/{_safe(key_id)}.json", _doc(policy["Policy"]))
        tags = {t["TagKey"]: t["TagValue"] for t in r.pages("kms", "list_resource_tags", "Tags", arn, KeyId=key_id)}
        grants = list(r.pages("kms", "list_grants", "Grants", arn, KeyId=key_id))
        lines += [f"  - arn: {arn}", f"    policy: {rel}"]
        if aliases.get(key_id):
            lines.append(f"    aliases: {_yaml_value(sorted(aliases[key_id]))}")
        if tags:
            lines.append(f"    tags: {_yaml_value(tags)}")
        for field_name, key in (("key_spec", "KeySpec"), ("key_usage", "KeyUsage"), ("origin", "Origin")):
            if meta.get(key):
                lines.append(f"    {field_name}: {meta[key]}")
        if meta.get("MultiRegion"):
            lines.append("    multi_region: true")
        if meta.get("KeyManager") == "AWS":
            lines.append("    aws_managed: true")
        if grants:
            lines.append("    grants:")
            for g in sorted(grants, key=lambda x: str(x.get("GrantId"))):
                entry: dict[str, Any] = {"grantee": g["GranteePrincipal"], "operations": sorted(g["Operations"])}
                constraints = g.get("Constraints") or {}
                if constraints.get("EncryptionContextEquals"):
                    entry["encryption_context_equals"] = constraints["EncryptionContextEquals"]
                if constraints.get("EncryptionContextSubset"):
                    entry["encryption_context_subset"] = constraints["EncryptionContextSubset"]
                if g.get("RetiringPrincipal"):
                    entry["retiring_principal"] = g["RetiringPrincipal"]
                if g.get("Name"):
                    entry["name"] = g["Name"]
                lines.append("      - {" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in entry.items()) + "}")
        report.keys += 1
    return lines


def _resources(r: _Reader, w: _Writer, account: str, report: SnapshotReport) -> list[str]:
    lines: list[str] = []

    def add(arn: str, rel: str | None, extra: list[str] = (), owner: str = "") -> None:  # type: ignore[assignment]
        if rel is None and not extra:
            return
        lines.append(f"  - arn: {arn}")
        if owner:
            lines.append(f"    account: {_yaml_value(owner)}")
        if rel is not None:
            lines.append(f"    policy: {rel}")
        lines.extend(extra)
        report.resources += 1

    for b in sorted(r.pages("s3", "list_buckets", "Buckets"), key=lambda x: x["Name"]):
        name = str(b["Name"])
        got = r.call("s3", "get_bucket_policy", name, Bucket=name)
        rel = w.policy(f"resources/s3/{_safe(name)}.json", _doc(got["Policy"])) if got and got.get("Policy") else None
        block = (r.call("s3", "get_public_access_block", name, Bucket=name) or {}).get(
            "PublicAccessBlockConfiguration")
        extra = []
        if block:
            flags = {"block_public_acls": block.get("BlockPublicAcls", False),
                     "ignore_public_acls": block.get("IgnorePublicAcls", False),
                     "block_public_policy": block.get("BlockPublicPolicy", False),
                     "restrict_public_buckets": block.get("RestrictPublicBuckets", False)}
            extra.append("    block_public_access: {" + ", ".join(f"{k}: {str(v).lower()}" for k, v in flags.items())
                         + "}")
        add(f"arn:aws:s3:::{name}", rel, extra, owner=account)
    for url in sorted(r.pages("sqs", "list_queues", "QueueUrls")):
        got = r.call("sqs", "get_queue_attributes", url, QueueUrl=url, AttributeNames=["Policy", "QueueArn"])
        attrs = (got or {}).get("Attributes", {})
        if attrs.get("Policy") and attrs.get("QueueArn"):
            add(attrs["QueueArn"], w.policy(f"resources/sqs/{_safe(url.rsplit('/', 1)[-1])}.json",
                                            _doc(attrs["Policy"])))
    for t in sorted(r.pages("sns", "list_topics", "Topics"), key=lambda x: x["TopicArn"]):
        arn = t["TopicArn"]
        attrs = (r.call("sns", "get_topic_attributes", arn, TopicArn=arn) or {}).get("Attributes", {})
        if attrs.get("Policy"):
            add(arn, w.policy(f"resources/sns/{_safe(arn.rsplit(':', 1)[-1])}.json", _doc(attrs["Policy"])))
    for s in sorted(r.pages("secretsmanager", "list_secrets", "SecretList"), key=lambda x: x["ARN"]):
        got = r.call("secretsmanager", "get_resource_policy", s["ARN"], SecretId=s["ARN"])
        if got and got.get("ResourcePolicy"):
            add(s["ARN"], w.policy(f"resources/secretsmanager/{_safe(s['Name'])}.json", _doc(got["ResourcePolicy"])))
    for f in sorted(r.pages("lambda", "list_functions", "Functions"), key=lambda x: x["FunctionArn"]):
        got = r.call("lambda", "get_policy", f["FunctionArn"], FunctionName=f["FunctionName"])
        if got and got.get("Policy"):
            add(f["FunctionArn"], w.policy(f"resources/lambda/{_safe(f['FunctionName'])}.json", _doc(got["Policy"])))
    for repo in sorted(r.pages("ecr", "describe_repositories", "repositories"), key=lambda x: x["repositoryArn"]):
        got = r.call("ecr", "get_repository_policy", repo["repositoryArn"], repositoryName=repo["repositoryName"])
        if got and got.get("policyText"):
            add(repo["repositoryArn"], w.policy(f"resources/ecr/{_safe(repo['repositoryName'])}.json",
                                                _doc(got["policyText"])))
    return lines
