"""Files named by manifests and property files stay inside the root (reasoner/front/confine.py, INPUT006).

A pull request from a stranger controls every file of the checkout CI runs on. These tests rebuild each way
such a file could make `reasoner` read and print a file it should not: `include "/proc/self/environ"`,
`include "../../etc/passwd"`, an absolute path, a symbolic link out of the root, `policy: /proc/self/environ`
in a manifest, a FIFO, a device, `.git/config`, and a file inside the root that is not of the kind expected.
Each is refused (or reported) with exit 2, a registered code and the location of the token that named the
path, and a secret planted in the refused file never appears on stdout or stderr. Everything runs in
process through `reasoner.face.cli.main` and stops before any analysis: the module runs in about a second.
"""

from __future__ import annotations

import io
import os
import re
import socket
from pathlib import Path

import pytest

from reasoner.errors import CODES, InputError
from reasoner.face.cli import EXIT_INPUT, EXIT_OK, main
from reasoner.front.confine import find_root
from reasoner.front.manifest import load_environment, parse_environment
from reasoner.language import property_files as props

MARKER = "SECRET-MARKER-7f3a9c"
KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REQUEST = ["--principal", "arn:aws:iam::111122223333:root", "--action", "kms:Decrypt", "--resource", KEY_ARN]
KEY_POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
              '"Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}')
ERROR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<code>[A-Z]+\d{3}) (?P<msg>\S.*)$",
                        re.M)
ENVIRON = Path("/proc/self/environ")


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], out, err)
    return status, out.getvalue(), err.getvalue()


def error_at(text: str, file: Path, code: str) -> tuple[int, int]:
    """(line, col) of the `file:L:C: error: CODE` line of a report; no traceback or internal error."""
    assert "Traceback" not in text and "INTERNAL" not in text, text
    hits = [m for m in ERROR_LINE.finditer(text) if m["code"] == code and m["file"] == str(file)]
    assert hits, f"no `{file}:L:C: error: {code}` in:\n{text}"
    assert code in CODES
    return int(hits[0]["line"]), int(hits[0]["col"])


def environ_secrets() -> list[str]:
    """Entries of this process's /proc/self/environ (what `include "/proc/self/environ"` used to print)."""
    try:
        entries = ENVIRON.read_bytes().split(b"\0")
    except OSError:
        return []
    return [e.decode("utf-8", "replace") for e in entries if b"=" in e and len(e) > 8][:20]


def assert_nothing_leaks(*texts: str) -> None:
    for text in texts:
        assert MARKER not in text, text
        for secret in environ_secrets():
            assert secret not in text, (secret, text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """`tmp_path/repo` (a git checkout: the default root) with a manifest and key policy, and, outside it,
    `tmp_path/outside` holding files with a planted secret."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(f"[http]\n\textraheader = AUTHORIZATION: basic {MARKER}\n")
    (root / "key.json").write_text(KEY_POLICY)
    (root / "env.yaml").write_text(f"keys:\n  - arn: {KEY_ARN}\n    policy: key.json\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{MARKER}\n")
    (outside / "secret.json").write_text(f'{{"Version": "{MARKER}"}}\n')
    (outside / "secret.access").write_text(f'assert "{MARKER}": nobody can kms:Decrypt\n')
    (outside / "env.yaml").write_text(f"{MARKER}: []\n")
    (root / "link.json").symlink_to(outside / "secret.json")
    (root / "link.access").symlink_to(outside / "secret.access")
    (root / "linkdir").symlink_to(outside)
    return root


def hostile_paths(repo: Path) -> dict[str, str]:
    """name -> the path as written in the hostile file (at `repo`'s top level)."""
    outside = repo.parent / "outside"
    return {
        "proc environ": str(ENVIRON),
        "etc passwd via ..": os.path.relpath("/etc/passwd", repo),
        "outside via ..": "../outside/secret.txt",
        "absolute outside": str(outside / "secret.txt"),
        "symlink out": "link.access",
        "symlink out (json)": "link.json",
        "through a symlinked directory": "linkdir/secret.txt",
        "git config": ".git/config",
        "dev null": "/dev/null",
        "sys": "/sys/kernel/notes",
    }


# ---- property files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["include", "environment"])
@pytest.mark.parametrize("name", ["proc environ", "etc passwd via ..", "outside via ..", "absolute outside",
                                  "symlink out", "through a symlinked directory", "git config", "dev null",
                                  "sys"])
def test_property_file_cannot_name_a_file_outside_the_root(repo: Path, statement: str, name: str) -> None:
    written = hostile_paths(repo)[name]
    path = repo / "p.access"
    path.write_text(f'# a check\n{statement} "{written}"\n')
    status, out, err = cli("check", path)
    assert status == EXIT_INPUT and out == ""
    assert error_at(err, path, "INPUT006") == (2, len(statement) + 2)  # the quoted path token
    assert_nothing_leaks(out, err)
    with pytest.raises(InputError) as info:  # the API refuses the same way
        props.compile_file(path)
    assert info.value.code == "INPUT006" and info.value.span is not None and info.value.span.line == 2


def test_key_policy_comparison_cannot_name_a_file_outside_the_root(repo: Path) -> None:
    path = repo / "p.access"
    for written in (str(ENVIRON), "../outside/secret.json", "link.json"):
        path.write_text(f'environment "env.yaml"\nassert: key policy "{written}" grants no new access over '
                        f"this on key {KEY_ARN}\n")
        status, out, err = cli("check", path)
        assert status == EXIT_INPUT
        assert error_at(err, path, "INPUT006") == (2, 20)
        assert_nothing_leaks(out, err)


def test_files_found_under_a_directory_are_confined(repo: Path) -> None:
    """`reasoner check checks/` compiles what the tree holds: `checks/x.access -> /proc/self/environ` (or a
    link out of the repository) is refused unread; links inside the repository are fine."""
    checks = repo / "checks"
    checks.mkdir()
    (repo / "shared.access").write_text("")
    (checks / "in-repo.access").symlink_to(repo / "shared.access")
    assert cli("check", checks)[0] == EXIT_OK
    for target in (ENVIRON, repo.parent / "outside" / "secret.access"):
        leak = checks / "leak.access"
        leak.unlink(missing_ok=True)
        leak.symlink_to(target)
        status, out, err = cli("check", checks)
        assert status == EXIT_INPUT and error_at(err, leak, "INPUT006") == (1, 1)
        assert_nothing_leaks(out, err)
        with pytest.raises(InputError):
            props.find_property_files([checks])
    assert props.find_property_files([checks], root=repo.parent)  # widened: the link is inside the root


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_socket_are_refused_unopened(repo: Path) -> None:
    os.mkfifo(repo / "fifo.access")
    kinds = {"fifo.access": "fifo"}
    sock_path = repo / "s.access"
    sock = None
    if len(str(sock_path)) < 100:  # AF_UNIX path limit
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(sock_path))
        kinds["s.access"] = "socket"
    try:
        for name, kind in kinds.items():
            path = repo / "p.access"
            path.write_text(f'include "{name}"\n')
            status, _, err = cli("check", path)  # a FIFO nobody writes to would hang an unguarded open
            assert status == EXIT_INPUT and error_at(err, path, "INPUT006") == (1, 9)
            assert f"it is a {kind}" in err
    finally:
        if sock is not None:
            sock.close()


def test_relative_paths_inside_the_root_still_work(repo: Path) -> None:
    """`..` that stays inside the root, a symbolic link inside it and an absolute path inside it are fine."""
    (repo / "checks").mkdir()
    (repo / "defs.access").write_text('environment "env.yaml"\n')
    (repo / "alias.access").symlink_to(repo / "defs.access")
    for include in ("../defs.access", "../alias.access", str(repo / "defs.access")):
        path = repo / "checks" / "c.access"
        path.write_text(f'include "{include}"\n')
        status, out, err = cli("check", path)
        assert (status, err) == (EXIT_OK, ""), (include, err)
        assert "0 assertions" in out


def test_the_default_root_is_the_git_repository_else_the_directory(tmp_path: Path) -> None:
    top = tmp_path / "top"
    (top / "checks").mkdir(parents=True)
    (top / "defs.access").write_text("")
    path = top / "checks" / "c.access"
    path.write_text('include "../defs.access"\n')
    assert find_root(path) == (top / "checks").resolve()
    status, _, err = cli("check", path)  # no repository: the root is the file's directory
    assert status == EXIT_INPUT and error_at(err, path, "INPUT006") == (1, 9)
    (top / ".git").write_text("gitdir: /elsewhere/worktrees/top\n")  # a worktree: `.git` is a file
    assert find_root(path) == top.resolve()
    assert cli("check", path)[0] == EXIT_OK


def test_root_option_and_parameter_widen_the_root(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--root DIR` (every command that takes files) and `root=` (the loading API) move the root; /proc,
    /sys, /dev and `.git` stay refused whatever the root."""
    outside = repo.parent / "outside"
    (outside / "defs.access").write_text('environment "../repo/env.yaml"\n')
    path = repo / "p.access"
    path.write_text('include "../outside/defs.access"\nassert: nobody can kms:Decrypt\n')
    assert cli("check", path)[0] == EXIT_INPUT
    with pytest.raises(InputError):
        props.compile_file(path)
    assert len(props.compile_file(path, root=repo.parent)) == 1
    assert len(props.Compiler(root=repo.parent).compile_file(path)) == 1
    path.write_text(f'include "{ENVIRON}"\n')
    status, _, err = cli("check", path, "--root", "/")
    assert status == EXIT_INPUT and error_at(err, path, "INPUT006") == (1, 9)
    assert_nothing_leaks(err)
    status, _, err = cli("check", path, "--root", repo / "missing")  # a usage error (argparse)
    assert status == EXIT_INPUT and "is not a directory" in err
    for command in ("validate", "decide", "check", "findings", "diff", "lint"):
        status, out, _ = cli(command, "--help")
        assert status == 0 and "--root DIR" in out, command


# ---- manifests ------------------------------------------------------------------------------------------


def manifest_with(policy: str) -> str:
    return f'keys:\n  - arn: {KEY_ARN}\n    policy: "{policy}"\n'


@pytest.mark.parametrize("name", ["proc environ", "etc passwd via ..", "outside via ..", "absolute outside",
                                  "symlink out (json)", "through a symlinked directory", "git config",
                                  "dev null", "sys"])
def test_manifest_cannot_name_a_policy_outside_the_root(repo: Path, name: str) -> None:
    path = repo / "env.yaml"
    path.write_text(manifest_with(hostile_paths(repo)[name]))
    status, out, err = cli("decide", path, *REQUEST)
    assert status == EXIT_INPUT and out == ""
    assert error_at(err, path, "INPUT006") == (3, 13)
    assert_nothing_leaks(out, err)
    with pytest.raises(InputError) as info:
        load_environment(path)
    assert info.value.code == "INPUT006" and info.value.span is not None and info.value.span.line == 3


def test_every_command_refuses_policy_proc_self_environ(repo: Path) -> None:
    """The measured leak: `policy: /proc/self/environ` printed the first variable's name."""
    path = repo / "env.yaml"
    path.write_text(manifest_with(str(ENVIRON)))
    prop = repo / "p.access"
    prop.write_text('environment "env.yaml"\nassert: nobody can kms:Decrypt\n')
    runs: list[tuple[str | Path, ...]] = [("decide", path, *REQUEST), ("findings", path), ("diff", path, path),
                                           ("lint", path)]
    for argv in runs:
        status, out, err = cli(*argv)
        assert status == EXIT_INPUT and out == "", argv
        assert error_at(err, path, "INPUT006") == (3, 13)
        assert_nothing_leaks(out, err)
    status, out, err = cli("check", prop)
    assert status == EXIT_INPUT and error_at(err, path, "INPUT006") == (3, 13)
    assert_nothing_leaks(out, err)


def test_every_policy_field_is_confined(repo: Path) -> None:
    secret = "../outside/secret.json"
    for text in ("principals:\n  - arn: arn:aws:iam::111122223333:role/R\n"
                 f"    policies: [{secret}]\n",
                 f"principals:\n  - arn: arn:aws:iam::111122223333:role/R\n    boundary: {secret}\n",
                 "organizations:\n  - id: o-abcdefghij\n    root: r-ab12\n    management_account: '999999999999'\n"
                 f"    scps: {{r-ab12: [{secret}]}}\n"):
        path = repo / "env.yaml"
        path.write_text(text)
        line = text.count("\n", 0, text.index(secret)) + 1
        col = text.index(secret) - text.rfind("\n", 0, text.index(secret))
        status, _, err = cli("findings", path)
        assert status == EXIT_INPUT and error_at(err, path, "INPUT006") == (line, col), err
        assert_nothing_leaks(err)


def test_parse_environment_is_confined_to_its_base(repo: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_environment(manifest_with("../outside/secret.json"), file="m.yaml", base=repo)
    assert info.value.code == "INPUT006"
    with pytest.raises(InputError) as info:  # widened: read, and rejected as a key policy
        parse_environment(manifest_with("../outside/secret.json"), file="m.yaml", base=repo, root=repo.parent)
    assert info.value.code == "ENV005"


def test_files_given_on_the_command_line_are_the_users_choice(repo: Path) -> None:
    outside = repo.parent / "outside"
    status, out, _ = cli("validate", outside / "secret.json")  # not confined: the user named it
    assert status != EXIT_INPUT and "POL005" in out
    (outside / "ok.yaml").write_text(f"keys:\n  - arn: {KEY_ARN}\n    policy: ../repo/key.json\n")
    assert cli("decide", outside / "ok.yaml", *REQUEST)[0] == EXIT_INPUT  # but what it names is
    assert cli("decide", outside / "ok.yaml", *REQUEST, "--root", repo.parent)[0] == EXIT_OK


# ---- files inside the root that are not of the kind expected: located, never quoted -------------------


def test_included_file_that_is_not_a_property_file_is_not_quoted(repo: Path) -> None:
    (repo / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={MARKER}\nOTHER={MARKER}\n")
    path = repo / "p.access"
    path.write_text('include ".env"\n')
    status, out, err = cli("check", path)
    assert status == EXIT_INPUT and error_at(err, path, "PROP001") == (1, 9)
    assert "is not a property file" in err
    assert_nothing_leaks(out, err)


def test_manifest_named_as_environment_that_is_not_a_manifest(repo: Path) -> None:
    (repo / "token.yaml").write_text(f"{MARKER}\n")
    path = repo / "p.access"
    path.write_text('environment "token.yaml"\n')
    status, out, err = cli("check", path)
    assert status == EXIT_INPUT and error_at(err, repo / "token.yaml", "ENV003") == (1, 1)
    assert_nothing_leaks(out, err)


@pytest.mark.parametrize("content", [
    f"{MARKER}\n",  # a token file: not JSON (PARSE001 on line 1)
    f"# {MARKER}\n{MARKER}=1\n",
    f'{{"Version": "2012-10-17",\n"Statement": [{{"Effect": "{MARKER}", "Principal": "*", "Action": "kms:*",'
    f' "Resource": "*"}}]}}\n',  # JSON, invalid on line 2: only the code's title is quoted
    "manifest-as-policy",
])
def test_referenced_policy_that_fails_is_located_not_quoted(repo: Path, content: str) -> None:
    policy = repo / "p.json"
    if content == "manifest-as-policy":
        policy = repo / "other.yaml"
        policy.write_text(f"keys: []\n# {MARKER}\n")
    else:
        policy.write_text(content)
    path = repo / "env.yaml"
    path.write_text(manifest_with(policy.name))
    status, out, err = cli("decide", path, *REQUEST)
    assert status == EXIT_INPUT and error_at(err, path, "ENV005") == (3, 13)
    assert f"{policy.name}:" in err  # the first error's location in the policy is given
    assert_nothing_leaks(out, err)
    prop = repo / "c.access"
    prop.write_text(f'environment "env.yaml"\nassert: key policy "{policy.name}" grants no new access over this '
                    f"on key {KEY_ARN}\n")
    path.write_text(manifest_with("key.json"))
    status, out, err = cli("check", prop)
    assert status == EXIT_INPUT and error_at(err, prop, "PROP009") == (2, 20)
    assert_nothing_leaks(out, err)


def test_first_line_validation_message_of_a_policy_is_still_shown(repo: Path) -> None:
    (repo / "p.json").write_text('{"Version": "2012-10-18", "Statement": []}\n')
    path = repo / "env.yaml"
    path.write_text(manifest_with("p.json"))
    status, _, err = cli("decide", path, *REQUEST)
    assert status == EXIT_INPUT and "POL005" in err and "2012-10-18" in err
