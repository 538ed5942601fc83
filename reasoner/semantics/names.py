"""IAM's rules for the names of callers: the one home of every name, path and session-name quota.

Input: a caller field (`uname`, `role`, `upath`, `rpath`, `sess`, `fed`: the field names of `symbolic/domain.py`)
and a value, spelled as it appears in an ARN.
Output: `well_formed(field, value)`, and `RULES[field]`, the rule in words (for diagnostics).
Guarantee: the same rules everywhere. The manifest rejects a declared principal or session whose name breaks
them (ENV009), and the symbolic core assumes them (`domain.py` builds its shape automata from `NAME_CHARS`,
`NAME_LENGTHS` and the path shape below), so a request by a caller that cannot exist is never a counterexample.

The rules (IAM and STS quotas): user and role names have 1..64 characters, role-session names 2..64 and
federated-user names 2..32, all of `NAME_CHARS` (`[A-Za-z0-9_+=,.@-]`); a path, as it appears between `user/`
(or `role/`) and the name, is "" for the path `/`, else `/`-delimited segments, the first character a name
character and the last a `/`.
"""

from __future__ import annotations

import re

#: Characters of IAM user, role, role-session and federated-user names (`[\w+=,.@-]`, ASCII word characters).
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-")
#: The fields whose value is a name, with its (least, greatest) length.
NAME_LENGTHS: dict[str, tuple[int, int]] = {"uname": (1, 64), "role": (1, 64), "sess": (2, 64), "fed": (2, 32)}
#: The fields whose value is a path (of a user, of a role).
PATH_FIELDS = frozenset({"upath", "rpath"})

_CLASS = "[A-Za-z0-9_+=,.@-]"
_PATH = re.compile(rf"(?:{_CLASS}[A-Za-z0-9_+=,.@/-]*/)?")
_WORDS = "letters, digits and `_+=,.@-`"
#: Each rule in words, for diagnostics.
RULES: dict[str, str] = {
    "uname": f"an IAM user name has 1 to 64 {_WORDS}",
    "role": f"an IAM role name has 1 to 64 {_WORDS}",
    "upath": f"a path is `/`-separated segments of {_WORDS}",
    "rpath": f"a path is `/`-separated segments of {_WORDS}",
    "sess": f"a role-session name has 2 to 64 {_WORDS}",
    "fed": f"a federated-user name has 2 to 32 {_WORDS}",
}


def well_formed(field: str, value: str) -> bool:
    """`value` is a well-formed value of caller field `field` (a key of `RULES`)."""
    if field in PATH_FIELDS:
        return _PATH.fullmatch(value) is not None
    low, high = NAME_LENGTHS[field]
    return low <= len(value) <= high and all(c in NAME_CHARS for c in value)
