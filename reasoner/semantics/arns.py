"""ARNs: the one grammar of every principal and resource ARN the reasoner reads or writes (semantics §1.3, §2.2).

Input: text (a request principal, a `Principal` entry, a grantee, a manifest or property-file value, a key ARN).
Output: frozen dataclasses, or None when the text is not of the form asked for: `parse` (any ARN, `Arn`),
`parse_identity` (any `iam`/`sts` ARN with an account), `parse_principal` (`RootArn`, `UserArn`, `RoleArn`,
`AssumedRoleArn`, `FederatedUserArn`), `parse_kms` (`KeyArn`, `AliasArn`); `format` (also `str(x)`) writes the
text back. Malformed text is never an exception here: every `parse*` returns None for it.
Guarantee: round trip, `format(parse_X(t)) == t` for every text `parse_X` accepts, and `parse_X(format(x)) == x`
for every well-formed value `x` (its fields follow the grammar below); every partition is read alike (`aws`,
`aws-cn`, `aws-us-gov`, and any other spelling): a caller that supports fewer partitions checks `.partition`
itself (the symbolic core: `domain.PARTITION`).

Grammar (`parse`: the six segments; the resource part keeps its colons and slashes)::

    arn          = "arn:" partition ":" service ":" region ":" account ":" resource
    partition    = any text without ":"                 (PARTITIONS lists the real ones)
    service, region, account = any text without ":"
    resource     = any text

Identity and KMS forms (`parse_identity`, `parse_principal`, `parse_kms`): the whole text has no line feed, the
partition is not empty and `account` is `ACCOUNT` (12 decimal digits, as the regex `\\d{12}`)::

    identity     = "arn:" partition ":" ("iam" | "sts") "::" ACCOUNT ":" resource
    root         = "arn:" partition ":iam::" ACCOUNT ":root"
    user         = "arn:" partition ":iam::" ACCOUNT ":user/" path name
    role         = "arn:" partition ":iam::" ACCOUNT ":role/" path name
    path         = text up to and including the last "/" of what follows "user/" ("" for the IAM path "/")
    name         = the rest: no "/"
    assumed-role = "arn:" partition ":sts::" ACCOUNT ":assumed-role/" role-name "/" session-name
    role-name    = non-empty, no "/"                    (a session ARN never shows the role's path)
    federated    = "arn:" partition ":sts::" ACCOUNT ":federated-user/" name
    key          = "arn:" partition ":kms:" region ":" ACCOUNT ":key/" key-id
    alias        = "arn:" partition ":kms:" region ":" ACCOUNT ":" alias-name
    alias-name   = "alias/" non-empty text              (AWS's AliasName, prefix included)

and, lenient (the evaluator's reading, the default): what follows `user/`, `role/` and `federated-user/`, the
session name and the key id are non-empty (a user or role name may then be empty: `user/a/`); `region` of a key
or alias may be empty. With `strict=True` (the manifest's shapes): the partition is lower-case letters and
hyphens, every path segment and every name is non-empty and has no "/" (so the session name too), a key's
or alias's region is `[a-z0-9-]+` and a key id `[A-Za-z0-9-]+`. Names are not checked against IAM's name rules
here: that is `names.well_formed`.

Service principals are not ARNs; their DNS suffixes per partition are `SERVICE_PRINCIPAL_DOMAINS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The AWS partitions (the symbolic core models `aws` only: `domain.PARTITION`).
PARTITIONS: tuple[str, ...] = ("aws", "aws-cn", "aws-us-gov")
#: The DNS suffix of service principals per partition (`cloudtrail.amazonaws.com`); China's Regions also know
#: `.amazonaws.com.cn` (`SERVICE_PRINCIPAL_SUFFIXES` lists both spellings the reasoner accepts).
SERVICE_PRINCIPAL_DOMAINS: dict[str, str] = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn",
                                             "aws-us-gov": "amazonaws.com"}
SERVICE_PRINCIPAL_SUFFIXES: tuple[str, ...] = (".amazonaws.com", ".amazonaws.com.cn")

_STRICT_PARTITION = re.compile(r"[a-z-]+")
_STRICT_REGION = re.compile(r"[a-z0-9-]+")
_STRICT_KEY_ID = re.compile(r"[A-Za-z0-9-]+")


# ---- the values ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arn:
    """Any ARN: its six segments (`resource` keeps its colons)."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def segments(self) -> tuple[str, str, str, str, str, str]:
        """The six segments, `"arn"` first (what `split` returns)."""
        return ("arn", self.partition, self.service, self.region, self.account, self.resource)

    def __str__(self) -> str:
        return ":".join(self.segments)


@dataclass(frozen=True)
class RootArn:
    """`arn:P:iam::A:root`: the account A (as a principal: delegation to the account, semantics §1.3)."""

    partition: str
    account: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"


@dataclass(frozen=True)
class UserArn:
    """`arn:P:iam::A:user/PATHNAME`: `path` is "" for the IAM path `/`, else ends with "/" (`division/`)."""

    partition: str
    account: str
    path: str
    name: str

    @property
    def path_name(self) -> str:
        """What follows `user/`: the path then the name."""
        return self.path + self.name

    def __str__(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:user/{self.path}{self.name}"


@dataclass(frozen=True)
class RoleArn:
    """`arn:P:iam::A:role/PATHNAME`: `path` as for `UserArn`; its sessions call (semantics §2.3)."""

    partition: str
    account: str
    path: str
    name: str

    @property
    def path_name(self) -> str:
        """What follows `role/`: the path then the name."""
        return self.path + self.name

    def session(self, session_name: str) -> AssumedRoleArn:
        """The ARN of one session of this role (the path is not shown)."""
        return AssumedRoleArn(self.partition, self.account, self.name, session_name)

    def __str__(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{self.path}{self.name}"


@dataclass(frozen=True)
class AssumedRoleArn:
    """`arn:P:sts::A:assumed-role/ROLE/SESSION`: one session of role ROLE (its path is not shown)."""

    partition: str
    account: str
    role_name: str
    session_name: str

    def role(self, path: str = "") -> RoleArn:
        """The ARN of the session's role, with `path` (unknown from the session ARN: "" for `/`)."""
        return RoleArn(self.partition, self.account, path, self.role_name)

    def __str__(self) -> str:
        return f"arn:{self.partition}:sts::{self.account}:assumed-role/{self.role_name}/{self.session_name}"


@dataclass(frozen=True)
class FederatedUserArn:
    """`arn:P:sts::A:federated-user/NAME`: a GetFederationToken session."""

    partition: str
    account: str
    name: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:sts::{self.account}:federated-user/{self.name}"


@dataclass(frozen=True)
class KeyArn:
    """`arn:P:kms:R:A:key/KEY-ID`: a KMS key."""

    partition: str
    region: str
    account: str
    key_id: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:key/{self.key_id}"


@dataclass(frozen=True)
class AliasArn:
    """`arn:P:kms:R:A:alias/NAME`: a KMS alias; `alias_name` keeps its `alias/` prefix (AWS's AliasName)."""

    partition: str
    region: str
    account: str
    alias_name: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:{self.alias_name}"


PrincipalArn = RootArn | UserArn | RoleArn | AssumedRoleArn | FederatedUserArn
KmsArn = KeyArn | AliasArn
AnyArn = Arn | PrincipalArn | KmsArn


# ---- parsing -------------------------------------------------------------------------------------------


def is_account_id(text: str) -> bool:
    """`text` is 12 decimal digits (the regex `\\d{12}`: Unicode decimal digits count, as they always did)."""
    return len(text) == 12 and text.isdecimal()


def is_aws_partition(partition: str) -> bool:
    """`partition` is spelled as the front end accepts: `aws`, then lower-case letters and hyphens (every
    value of `PARTITIONS`, and the isolated ones such as `aws-iso-b`)."""
    return partition.startswith("aws") and _STRICT_PARTITION.fullmatch("a" + partition[3:]) is not None


def split(text: str) -> tuple[str, str, str, str, str, str] | None:
    """The six segments of an ARN (`"arn"` first; the resource part keeps its colons), or None."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5])


def parse(text: str) -> Arn | None:
    """Any ARN (the six segments, no other rule), or None."""
    parts = split(text)
    return None if parts is None else Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def _framed(text: str, strict: bool) -> Arn | None:
    """The ARN of an identity or KMS form: no line feed, a partition, a 12-digit account."""
    if "\n" in text:
        return None
    arn = parse(text)
    if arn is None or not arn.partition or not is_account_id(arn.account):
        return None
    if strict and not _STRICT_PARTITION.fullmatch(arn.partition):
        return None
    return arn


def parse_identity(text: str) -> Arn | None:
    """Any `iam` or `sts` ARN with an empty region and an account id (root, user, role, session, federated
    user, saml-provider, ...; the resource part is not read), or None."""
    arn = _framed(text, False)
    if arn is None or arn.service not in ("iam", "sts") or arn.region:
        return None
    return arn


def _path_name(rest: str, strict: bool) -> tuple[str, str] | None:
    if not rest:
        return None
    cut = rest.rfind("/") + 1
    path, name = rest[:cut], rest[cut:]
    if strict and (not name or "" in path.split("/")[:-1]):
        return None
    return path, name


def parse_principal(text: str, *, strict: bool = False) -> PrincipalArn | None:
    """A root, user, role, assumed-role or federated-user ARN of any partition (grammar above), or None."""
    arn = _framed(text, strict)
    if arn is None or arn.region:
        return None
    res = arn.resource
    if arn.service == "iam":
        if res == "root":
            return RootArn(arn.partition, arn.account)
        for prefix, cls in (("user/", UserArn), ("role/", RoleArn)):
            if res.startswith(prefix):
                split_name = _path_name(res[len(prefix):], strict)
                if split_name is None:
                    return None
                return cls(arn.partition, arn.account, *split_name)
        return None
    if arn.service != "sts":
        return None
    if res.startswith("assumed-role/"):
        role, sep, session = res[len("assumed-role/"):].partition("/")
        if not role or not sep or not session or (strict and "/" in session):
            return None
        return AssumedRoleArn(arn.partition, arn.account, role, session)
    if res.startswith("federated-user/"):
        name = res[len("federated-user/"):]
        if not name or (strict and "/" in name):
            return None
        return FederatedUserArn(arn.partition, arn.account, name)
    return None


def parse_kms(text: str, *, strict: bool = False) -> KmsArn | None:
    """A KMS key or alias ARN of any partition (grammar above), or None."""
    arn = _framed(text, strict)
    if arn is None or arn.service != "kms":
        return None
    if strict and not _STRICT_REGION.fullmatch(arn.region):
        return None
    res = arn.resource
    if res.startswith("key/") and len(res) > 4:
        key_id = res[4:]
        if strict and not _STRICT_KEY_ID.fullmatch(key_id):
            return None
        return KeyArn(arn.partition, arn.region, arn.account, key_id)
    if res.startswith("alias/") and len(res) > 6:
        if strict and "" in res.split("/"):
            return None
        return AliasArn(arn.partition, arn.region, arn.account, res)
    return None


def format(arn: AnyArn) -> str:
    """The text of an ARN value (the inverse of the `parse*` functions; also `str(arn)`). Named for the module's
    verb pair and used qualified, `arns.format(x)` (it shadows the builtin only inside this module)."""
    return str(arn)


__all__ = [
    "PARTITIONS",
    "SERVICE_PRINCIPAL_DOMAINS",
    "SERVICE_PRINCIPAL_SUFFIXES",
    "AliasArn",
    "AnyArn",
    "Arn",
    "AssumedRoleArn",
    "FederatedUserArn",
    "KeyArn",
    "KmsArn",
    "PrincipalArn",
    "RoleArn",
    "RootArn",
    "UserArn",
    "format",
    "is_account_id",
    "is_aws_partition",
    "parse",
    "parse_identity",
    "parse_kms",
    "parse_principal",
    "split",
]
