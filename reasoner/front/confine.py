"""Confinement: the files an input names stay inside a root directory.

Input: a root directory, and a path as written in a manifest (`policy:`, `policies:`, `boundary:`, `scps:`,
`rcps:`) or a property file (`environment "PATH"`, `include "PATH"`, `key policy "PATH"`), resolved
against the directory of the file that names it.
Output: nothing when the file may be read; `Refused` with the reason otherwise (the callers turn it into a
located error, INPUT006, at the token that named the path).
Guarantee: a referenced file is read only if its real path (every symbolic link followed) lies inside the
root, outside `/proc`, `/sys` and `/dev`, outside any `.git` directory, and it is a regular file (or does
not exist, or is a directory: the callers report those as before). The check runs before the file is
opened, so a refused file's content is never read, let alone shown, and whether it exists is not revealed.

The root is, by default, the nearest directory at or above the file given on the command line that holds a
`.git` entry (a repository or a worktree; found by walking up, no subprocess), else the directory of that
file (`find_root`); `--root DIR` on the command line and `root=` in the loading API widen or move it. Files
given on the command line are the user's choice and are not confined. Why: a pull request from a stranger
controls every file of the checkout, so without confinement `include "/proc/self/environ"` or
`policy: ../../../../etc/passwd` would make CI print its secrets in a diagnostic; `.git` is refused too,
because CI checkouts keep their access token in `.git/config`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from reasoner.errors import CODES, Diagnostic, Severity, register_code

__all__ = ["PATH_REFUSED", "SYSTEM_DIRECTORIES", "Refused", "check", "check_system", "find_root", "referenced_detail",
           "root_of"]

PATH_REFUSED = register_code("INPUT006", Severity.ERROR,
                             "path refused: outside the root, in /proc, /sys, /dev or .git, or not a regular file")

#: Pseudo-filesystems and device trees: never read through a reference, whatever the root.
SYSTEM_DIRECTORIES = ("/proc", "/sys", "/dev")

#: The syntax-error code of policies (`parse.SYNTAX`; not imported, parse.py depends on this module's callers).
_POLICY_SYNTAX = "PARSE001"

HELP = ("files named by a manifest or property file must lie inside the root (by default the git repository "
        "of the file given on the command line); widen it with `--root DIR`")


class Refused(Exception):
    """A referenced path that must not be read; `reason` is a lowercase clause for a message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _real(path: str) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):  # a nul character or an unencodable name: keep it lexical
        return Path(os.path.abspath(path))


def find_root(path: str | Path) -> Path:
    """The default root of the files `path` names (`path` is a file, or a directory for text that names
    files relative to it): the nearest directory at or above it with a `.git` entry, else the directory
    itself. A real path. Never raises."""
    try:
        start = Path(os.path.abspath(path))
    except (OSError, ValueError):
        return Path(os.path.abspath("."))
    try:
        if not start.is_dir():
            start = start.parent
    except (OSError, ValueError):
        start = start.parent
    d = start
    while True:
        try:
            if os.path.lexists(d / ".git"):
                return _real(str(d))
        except (OSError, ValueError):
            pass
        if d.parent == d:
            return _real(str(start))
        d = d.parent


def root_of(root: str | Path | None, default_for: str | Path) -> Path:
    """`root` as a real path, or `find_root(default_for)` when it is None."""
    return find_root(default_for) if root is None else _real(str(root))


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def check_system(path: Path) -> str | None:
    """The system directory (`/proc`, `/sys`, `/dev`) `path` lies in, or None."""
    for d in SYSTEM_DIRECTORIES:
        if _inside(path, Path(d)):
            return d
    return None


def check(root: Path, written: str, candidate: Path) -> None:
    """Raise `Refused` unless the file `written` (as the input spells it), found at `candidate` (the
    written path joined to the directory of the file naming it), may be read. `root` is a real path."""
    lexical = Path(os.path.abspath(candidate))
    real = _real(str(candidate))
    system = check_system(lexical) or check_system(real)
    if system is not None:
        raise Refused(f"it is in `{system}`")
    if not _inside(real, root):
        if os.path.isabs(written):
            raise Refused(f"it is an absolute path outside the root `{root}`")
        if ".." in Path(written).parts:
            raise Refused(f"it leaves the root `{root}`")
        raise Refused(f"it goes through a symbolic link that leaves the root `{root}`")
    if any(part.lower() == ".git" for part in real.relative_to(root).parts):
        raise Refused("it is inside a `.git` directory")
    try:
        mode = os.stat(real).st_mode
    except (OSError, ValueError):
        return  # missing or unusable: the caller reports it as before
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = ("a fifo" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise Refused(f"it is {kind}, not a regular file")


def referenced_detail(diag: Diagnostic) -> str:
    """How the first error of a policy file named by a manifest or property file is quoted in the error at
    the reference: `file:line:col: CODE` and the message, but the message (which may quote a token of the
    file) only when the error is on line 1 and the file is JSON (not PARSE001); otherwise the code's
    title, which quotes nothing. So a referenced file that is not a policy (a token file, `.env`) never has
    its content shown beyond a token of its first line; `reasoner validate FILE` shows everything."""
    if diag.span.line == 1 and diag.code != _POLICY_SYNTAX:
        return f"{diag.span}: {diag.code} {diag.message}"
    title = CODES.get(diag.code, (diag.severity, "error"))[1]
    return f"{diag.span}: {diag.code} {title}"
