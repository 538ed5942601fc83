"""Bad input never produces a traceback: every entry point, every kind of hostile file.

The guarantee (project guide): bad input (broken JSON, unknown operator, wrong types, huge or hostile files)
gets a one-line error `file:line:col: error: CODE message` (a caret snippet and a help line may follow), a
stable code registered in `errors.CODES`, and the documented exit status (2 where the input is unusable,
1 for validation findings). No traceback reaches a user. Nothing is lost: with several files, every
diagnostic of every file is printed.

Entry points: `reasoner validate`, `decide`, `check`, `findings`, `diff`, `lint` (in-process through
`reasoner.face.cli.main`, a few through `python -m reasoner`), and the Python API (`parse.parse_document`,
`parse.parse_policy`, `parse.load_policy`, `manifest.load_environment`, `props.parse_text`,
`props.compile_file`). Big inputs are built in tmp directories (a 50 MB file is sparse), so the whole
module runs in a few seconds. Endless streams (a FIFO nobody writes to, `/dev/zero`) run under a watchdog
so that a regression fails the test instead of hanging the suite. The time bounds (generous: they catch a
blow-up, not a slowdown) are on this process's CPU time, which the machine's load does not inflate.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasoner.errors import CODES, InputError, PolicyValidationError, ReasonerError
from reasoner.face.cli import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, main
from reasoner.front.manifest import load_environment, parse_environment
from reasoner.front.parse import (
    MAX_INPUT_BYTES,
    load_policy,
    parse_and_validate,
    parse_document,
    parse_policy,
    read_input_text,
)
from reasoner.language import property_files as props
from reasoner.semantics.environment import Environment

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed"

#: `file:line:col: error: CODE message` (the first line of every error report)
ERROR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<code>[A-Z]+\d{3}) (?P<msg>\S.*)$")

KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REQUEST = ["--principal", "arn:aws:iam::111122223333:root", "--action", "kms:Decrypt", "--resource", KEY_ARN]


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], out, err)
    return status, out.getvalue(), err.getvalue()


def error_lines(text: str) -> list[re.Match[str]]:
    """Every `file:line:col: error: CODE message` line of a report."""
    return [m for m in map(ERROR_LINE.match, text.splitlines()) if m is not None]


def assert_error(text: str, path: str | Path, code: str) -> re.Match[str]:
    """The report holds a well-formed error line for `path` with `code`, that code is registered, and no
    line of the report is a traceback or an internal error."""
    assert "Traceback" not in text and "INTERNAL" not in text, text
    hits = [m for m in error_lines(text) if m["code"] == code and m["file"] == str(path)]
    assert hits, f"no `{path}:L:C: error: {code} ...` line in:\n{text}"
    assert code in CODES, f"{code} is not registered in errors.CODES"
    return hits[0]


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    path.write_bytes(data)
    return path


def with_watchdog(fn: Callable[[], tuple[int, str, str]], seconds: float = 20.0) -> tuple[int, str, str]:
    """Run `fn` in a daemon thread; fail (instead of hanging the suite) if it does not return in time."""
    box: list[tuple[int, str, str] | BaseException] = []

    def target() -> None:
        try:
            box.append(fn())
        except BaseException as exc:  # reported below
            box.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert box, f"still running after {seconds} s: reading the input hangs"
    result = box[0]
    if isinstance(result, BaseException):
        raise result
    return result


def policy(statement: str) -> str:
    return '{"Version": "2012-10-17", "Statement": [' + statement + "]}"


ALLOW = '{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}'


# ---- policy files: `reasoner validate` and the parse API ------------------------------------------------

#: name -> (file bytes, expected code of the first error, exit status of `reasoner validate`)
POLICY_CASES: dict[str, tuple[bytes, str, int]] = {
    "empty": (b"", "PARSE001", EXIT_FINDINGS),
    "whitespace only": (b" \n\t\r\n  ", "PARSE001", EXIT_FINDINGS),
    "utf-8 bom": (b"\xef\xbb\xbf" + policy(ALLOW).encode(), "PARSE001", EXIT_FINDINGS),
    "utf-16 text": (policy(ALLOW).encode("utf-16"), "INPUT002", EXIT_INPUT),
    "utf-16-be without bom": (policy(ALLOW).encode("utf-16-be"), "INPUT002", EXIT_INPUT),
    "invalid utf-8": (b'{"Version": "2012-10-17\xff"}', "INPUT002", EXIT_INPUT),
    "nul byte in a string": (b'{"Ver\x00sion": 1}', "PARSE001", EXIT_FINDINGS),
    "nul byte outside a string": (b"\x00" + policy(ALLOW).encode(), "PARSE001", EXIT_FINDINGS),
    "binary": (bytes(range(256)) * 16, "INPUT002", EXIT_INPUT),
    "latin-1 binary that is valid utf-8": (bytes(range(128)) * 4, "PARSE001", EXIT_FINDINGS),
    "comment": (b"// a policy\n" + policy(ALLOW).encode(), "PARSE001", EXIT_FINDINGS),
    "block comment": (policy(ALLOW).encode().replace(b"[", b"[/* x */", 1), "PARSE001", EXIT_FINDINGS),
    "trailing comma": (policy(ALLOW + ",").encode(), "PARSE001", EXIT_FINDINGS),
    "NaN": (policy(ALLOW.replace('"kms:Decrypt"', "NaN")).encode(), "PARSE001", EXIT_FINDINGS),
    "Infinity": (b'{"Version": Infinity}', "PARSE001", EXIT_FINDINGS),
    "single quotes": (b"{'Version': '2012-10-17'}", "PARSE001", EXIT_FINDINGS),
    "key not a string": (b'{1: "2012-10-17"}', "PARSE001", EXIT_FINDINGS),
    "null key": (b'{null: 1}', "PARSE001", EXIT_FINDINGS),
    "text after the document": (policy(ALLOW).encode() + b" {}", "PARSE001", EXIT_FINDINGS),
    "unterminated string": (b'{"Version": "2012-10-17', "PARSE001", EXIT_FINDINGS),
    "bad escape": (b'{"Version": "\\x41"}', "PARSE001", EXIT_FINDINGS),
    "duplicate keys": (policy(ALLOW.replace('"Effect": "Allow"', '"Effect": "Allow", "Effect": "Deny"')).encode(),
                       "POL002", EXIT_FINDINGS),
    "lone surrogate": (policy(ALLOW.replace('"Effect"', '"Sid": "\\ud800", "Effect"')).encode(),
                       "POL024", EXIT_FINDINGS),
    "unknown operator": (policy(ALLOW[:-1] + ', "Condition": {"StringEqualz": {"aws:username": "x"}}}').encode(),
                         "POL019", EXIT_FINDINGS),
    "qualifier only": (policy(ALLOW[:-1] + ', "Condition": {"ForAnyValue:": {"aws:username": "x"}}}').encode(),
                       "POL019", EXIT_FINDINGS),
    "NullIfExists": (policy(ALLOW[:-1] + ', "Condition": {"NullIfExists": {"aws:username": "true"}}}').encode(),
                     "POL020", EXIT_FINDINGS),
    "not an object": (b'["Version", "2012-10-17"]', "POL001", EXIT_FINDINGS),
    "wrong types everywhere": (
        b'{"Version": 1, "Id": [], "Statement": [1, {"Effect": true, "Action": {}, "Resource": [null],'
        b' "Condition": [], "Principal": 5}]}', "POL004", EXIT_FINDINGS),
    "condition value an object": (
        policy(ALLOW[:-1] + ', "Condition": {"StringEquals": {"aws:username": {"a": 1}}}}').encode(),
        "POL004", EXIT_FINDINGS),
    "deep arrays": (b"[" * 100_000 + b"]" * 100_000, "POL033", EXIT_FINDINGS),
    "deep objects": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "POL033", EXIT_FINDINGS),
    "deep and unclosed": (b'{"Statement": ' + b"[" * 100_000, "POL033", EXIT_FINDINGS),
    "deep inside a string is not deep": (b'{"Id": "' + b"[" * 100_000 + b'"}', "POL006", EXIT_FINDINGS),
}


@pytest.mark.parametrize("name", list(POLICY_CASES))
def test_validate_hostile_policy_file(tmp_path: Path, name: str) -> None:
    data, code, status = POLICY_CASES[name]
    path = write(tmp_path / "policy.json", data)
    start = time.process_time()
    got, out, err = cli("validate", path)
    assert time.process_time() - start < 5, "hostile input must be rejected quickly"
    assert got == status and err == ""
    assert_error(out, path, code)
    # the JSON report carries the same code and is valid JSON whatever the input
    got_json, out_json, _ = cli("validate", "--format", "json", path)
    assert got_json == status
    report = json.loads(out_json)
    assert code in {d["code"] for f in report["files"] for d in f["diagnostics"]}


@pytest.mark.parametrize("name", [n for n, (_, _, s) in POLICY_CASES.items() if s == EXIT_FINDINGS])
def test_parse_api_never_raises_on_hostile_text(name: str) -> None:
    """`parse_document` and `parse_and_validate` return diagnostics for any text; `parse_policy` raises only
    `PolicyValidationError` (a `ReasonerError`) carrying every one of them."""
    data, code, _ = POLICY_CASES[name]
    text = data.decode("utf-8")
    _, diags = parse_document(text, file="p.json")  # structure only: validation codes come later
    assert all(d.code in CODES for d in diags)
    doc, diags = parse_and_validate(text, file="p.json")
    assert doc is None and code in {d.code for d in diags} and all(d.code in CODES for d in diags)
    with pytest.raises(PolicyValidationError) as info:
        parse_policy(text, file="p.json")
    assert code in {d.code for d in info.value.diagnostics}
    assert all(ERROR_LINE.match(str(d)) or ": warning: " in str(d) for d in info.value.diagnostics)
    assert "\n" not in str(info.value)


def test_huge_and_odd_numbers_are_values_not_crashes(tmp_path: Path) -> None:
    """`1e999999`, `-0`, `1e-400` are JSON numbers: they parse; under a numeric operator the validator warns
    about the ones no request value can equal (POL115), and nothing overflows."""
    cond = '"Condition": {"NumericEquals": {"kms:x": [1e999999, -0, 1e-400, -1e999999, 12345678901234567890]}}'
    path = write(tmp_path / "n.json", policy(ALLOW[:-1] + ", " + cond + "}"))
    status, out, err = cli("validate", path)
    assert status in (EXIT_OK, EXIT_FINDINGS) and err == "" and "Traceback" not in out
    assert all(m["code"] in CODES for m in error_lines(out))
    doc, _ = parse_document(path.read_text(), file=str(path))
    assert doc is not None
    values = [v.text for v in doc.statements[0].condition.conditions[0].values]  # type: ignore[union-attr]
    assert values == ["1e999999", "-0", "1e-400", "-1e999999", "12345678901234567890"]


def test_long_string_under_the_size_limit_is_handled(tmp_path: Path) -> None:
    """A 2 MB single string is lexed and validated (the policy is over every AWS size limit: POL025), and the
    snippet under the error stays short."""
    sid = '"Sid": "' + "a" * 2_000_000 + '", "Effect"'
    path = write(tmp_path / "long.json", policy(ALLOW.replace('"Effect"', sid)))
    start = time.process_time()
    status, out, _ = cli("validate", path)
    assert time.process_time() - start < 10
    assert status == EXIT_FINDINGS
    assert_error(out, path, "POL025")
    assert max(len(line) for line in out.splitlines()) < 400


def test_ten_megabyte_string_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path / "long.json", '{"Id": "' + "a" * 10_000_000 + '"}')
    start = time.process_time()
    status, out, _ = cli("validate", path)
    assert time.process_time() - start < 2
    assert status == EXIT_INPUT
    m = assert_error(out, path, "INPUT005")
    assert (m["line"], m["col"]) == ("1", "1") and str(MAX_INPUT_BYTES) in m["msg"]


def test_fifty_megabyte_policy_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as f:  # sparse: no 50 MB written
        f.truncate(50 * 1024 * 1024)
    start = time.process_time()
    status, out, _ = cli("validate", path)
    assert time.process_time() - start < 1
    assert status == EXIT_INPUT
    assert_error(out, path, "INPUT005")
    with pytest.raises(InputError) as info:
        load_policy(path)
    assert info.value.code == "INPUT005" and info.value.span is not None


def test_huge_text_through_the_api_is_one_diagnostic() -> None:
    text = " " * (MAX_INPUT_BYTES + 1)
    start = time.process_time()
    doc, diags = parse_document(text)
    assert time.process_time() - start < 1
    assert doc is None and [d.code for d in diags] == ["INPUT005"]


def test_size_limit_is_exact(tmp_path: Path) -> None:
    path = write(tmp_path / "x.json", b"x" * 101)
    assert read_input_text(write(tmp_path / "y.json", b"y" * 100), limit=100) == "y" * 100
    with pytest.raises(InputError) as info:
        read_input_text(path, limit=100)
    assert info.value.code == "INPUT005"


@pytest.mark.parametrize("kind", ["missing", "directory", "symlink loop", "nul in path", "name too long",
                                  "lone surrogate in path"])
def test_validate_unusable_paths(tmp_path: Path, kind: str) -> None:
    code = {"directory": "INPUT003"}.get(kind, "INPUT001")
    if kind == "missing":
        path = str(tmp_path / "missing.json")
    elif kind == "directory":
        path = str(tmp_path)
    elif kind == "symlink loop":
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        path = str(tmp_path / "a")
    elif kind == "nul in path":
        path = str(tmp_path / "a\x00b.json")
    elif kind == "name too long":
        path = str(tmp_path / ("n" * 5000 + ".json"))
    else:
        path = str(tmp_path / "\ud800.json")
    status, out, err = cli("validate", path)
    assert status == EXIT_INPUT and err == ""
    lines = error_lines(out)
    assert [m["code"] for m in lines] == [code] and "Traceback" not in out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_without_writer_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.json"
    os.mkfifo(fifo)
    status, out, _ = with_watchdog(lambda: cli("validate", fifo))
    assert status == EXIT_FINDINGS  # read as empty: nobody writes to it
    assert_error(out, fifo, "PARSE001")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_stream_is_cut_at_the_size_limit() -> None:
    start = time.process_time()
    status, out, _ = with_watchdog(lambda: cli("validate", "/dev/zero"))
    assert time.process_time() - start < 10
    assert status == EXIT_INPUT
    assert_error(out, "/dev/zero", "INPUT005")


def test_nothing_is_lost_across_files(tmp_path: Path) -> None:
    """Every diagnostic of every file, in the order given, whatever is wrong with the others."""
    files = [
        write(tmp_path / "syntax.json", b'{"Version": "2012-10-17",}'),
        tmp_path / "missing.json",
        write(tmp_path / "utf16.json", policy(ALLOW).encode("utf-16")),
        write(tmp_path / "two.json", policy(ALLOW[:-1] + ', "Condition": {"Foo": {"a": "b"}, "Bar": {"c": "d"}}}')),
        write(tmp_path / "deep.json", b"[" * 100_000),
        write(tmp_path / "fine.json", policy(ALLOW)),
    ]
    status, out, err = cli("validate", *files)
    assert status == EXIT_INPUT and err == ""
    got = [(Path(m["file"]).name, m["code"]) for m in error_lines(out)]
    assert got == [("syntax.json", "PARSE001"), ("missing.json", "INPUT001"), ("utf16.json", "INPUT002"),
                   ("two.json", "POL019"), ("two.json", "POL019"), ("deep.json", "POL033")]
    assert out.rstrip().endswith("in 6 files (2 unreadable)")


# ---- manifests: `reasoner decide` and `load_environment` ----------------------------------------------

KEY_POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
              '"Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}')
KEY = f"keys:\n  - arn: {KEY_ARN}\n    policy: key.json\n"


def _laughs() -> list[str]:
    """The levels of a billion-laughs bomb: 9^9 leaves once expanded, nine nodes as composed."""
    levels = ["&l0 [" + ", ".join(['"lol"'] * 9) + "]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return levels


def _laughs_under(field: str) -> str:
    return f"{field}:\n" + "".join(f"  - {level}\n" for level in _laughs())


#: name -> (manifest bytes, expected code)
MANIFEST_CASES: dict[str, tuple[bytes, str]] = {
    "utf-16": (KEY.encode("utf-16"), "ENV004"),
    "invalid utf-8": (KEY.encode() + b"# \xff\n", "ENV004"),
    "binary": (bytes(range(256)), "ENV004"),
    "nul byte": (KEY.encode() + b"\x00\n", "ENV001"),
    "tab indentation": (b"keys:\n\t- arn: x\n", "ENV001"),
    "unclosed flow": (b"keys: [\n", "ENV001"),
    "billion laughs under keys": (_laughs_under("keys").encode(), "ENV003"),
    "billion laughs under aliases": ((KEY + "    aliases: [" + ", ".join(_laughs()) + "]\n").encode(), "ENV003"),
    "billion laughs under tags": ((KEY + "    tags: {a: [" + ", ".join(_laughs()) + "]}\n").encode(), "ENV003"),
    "recursive alias": (b"keys: &a [*a]\n", "ENV003"),
    "python object tag": (b"keys: !!python/object/apply:os.system ['echo pwned']\n", "ENV003"),
    "python name tag": (f"keys:\n  - arn: !!python/name:os.system {KEY_ARN}\n    policy: key.json\n".encode(),
                        "ENV003"),
    "local tag": (b"keys: !Ref Keys\n", "ENV003"),
    "binary tag": (b"options: !!binary aGVsbG8=\n", "ENV003"),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "ENV001"),
    "not a mapping": (b"- keys\n- principals\n", "ENV003"),
    "key not a string": (b"? [keys]\n: []\n", "ENV003"),
    "unknown field": (b"kees: []\n", "ENV002"),
    "integer key": (b"1: 2\n", "ENV002"),
    "null key": (b"~: []\n", "ENV003"),
    "duplicate field": (b"keys: []\nkeys: []\n", "ENV008"),
    "wrong type": (b"keys: {arn: x}\n", "ENV003"),
    "account id a huge number": (b"accounts:\n  - id: 1e999999\n", "ENV003"),
    "boolean a list": ((KEY + "    multi_region: [true]\n").encode(), "ENV003"),
    "policy outside via ..": (KEY.replace("key.json", "../../outside.txt").encode(), "INPUT006"),
    "policy is a directory": (KEY.replace("key.json", ".").encode(), "ENV004"),
    "policy path with nul": (KEY.replace("key.json", '"\\0.json"').encode(), "ENV004"),
    "policy path with lone surrogate": (KEY.replace("key.json", '"\\ud800.json"').encode(), "ENV004"),
    "policy path too long": (KEY.replace("key.json", "p" * 5000).encode(), "ENV004"),
    "policy symlink loop": (KEY.replace("key.json", "loop").encode(), "ENV004"),
    "policy rejected": (KEY.replace("key.json", "bad.json").encode(), "ENV005"),
    "policy of 50 MB": (KEY.replace("key.json", "big.json").encode(), "ENV004"),
}


def _manifest_dir(tmp_path: Path) -> Path:
    d = tmp_path / "a" / "b"
    write(d / "key.json", KEY_POLICY)
    write(d / "bad.json", '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",}]}')
    write(tmp_path / "outside.txt", "root:x:0:0:root:/root:/bin/bash\n")
    (d / "loop").symlink_to(d / "loop2")
    (d / "loop2").symlink_to(d / "loop")
    with (d / "big.json").open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    return d


@pytest.mark.parametrize("name", list(MANIFEST_CASES))
def test_decide_hostile_manifest(tmp_path: Path, name: str) -> None:
    data, code = MANIFEST_CASES[name]
    path = write(_manifest_dir(tmp_path) / "env.yaml", data)
    start = time.process_time()
    status, out, err = cli("decide", path, *REQUEST)
    assert time.process_time() - start < 5
    assert status == EXIT_INPUT and out == ""
    assert_error(err, path, code)
    assert len(err.splitlines()) <= 4 and all(len(line) < 600 for line in err.splitlines())
    with pytest.raises(InputError) as info:  # the API raises the same error, with its span
        load_environment(path)
    assert info.value.code == code and info.value.span is not None and info.value.span.file == str(path)


def test_yaml_tags_construct_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write(tmp_path / "env.yaml", f"keys: !!python/object/apply:os.system ['touch {marker}']\n")
    assert cli("decide", path, *REQUEST)[0] == EXIT_INPUT
    assert not marker.exists()


@pytest.mark.skipif(not Path("/etc/passwd").is_file(), reason="needs /etc/passwd")
def test_manifest_naming_etc_passwd_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path / "env.yaml", KEY.replace("key.json", "../../../../../../../../etc/passwd"))
    status, _, err = cli("decide", path, *REQUEST)
    assert status == EXIT_INPUT
    m = assert_error(err, path, "INPUT006")  # outside the root (tests/robustness/test_confinement.py)
    assert (m["line"], m["col"]) == ("3", "13") and "root:" not in err


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_decide_unusable_manifest_path(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "missing.yaml" if kind == "missing" else tmp_path
    status, _, err = cli("decide", path, *REQUEST)
    assert status == EXIT_INPUT
    assert_error(err, path, "ENV004")


def test_empty_manifest_is_an_empty_environment(tmp_path: Path) -> None:
    """Every section is optional (manifest.py): an empty or whitespace-only file is the empty environment."""
    for text in ("", "  \n\n", "# nothing\n"):
        env = load_environment(write(tmp_path / "env.yaml", text))
        assert isinstance(env, Environment) and env.keys == ()
    assert parse_environment("\ufeffkeys: []\n").keys == ()  # a BOM is allowed by YAML


@pytest.mark.skipif(not Path("/dev/zero").exists() or not hasattr(os, "mkfifo"), reason="needs /dev/zero")
def test_decide_endless_manifest_and_fifo(tmp_path: Path) -> None:
    status, _, err = with_watchdog(lambda: cli("decide", "/dev/zero", *REQUEST))
    assert status == EXIT_INPUT
    assert_error(err, "/dev/zero", "ENV004")
    fifo = tmp_path / "env.yaml"
    os.mkfifo(fifo)
    status, _, err = with_watchdog(lambda: cli("decide", fifo, *REQUEST))
    assert status == EXIT_INPUT and "Traceback" not in err  # empty environment: the key is unknown


# ---- property files: `reasoner check` and the props API -----------------------------------------------

ENV_LINE = 'environment "seed/environment.yaml"\n'  # a copy next to the file (`_seed`): files stay in the root
GOOD = ENV_LINE + 'assert "a": nobody can kms:Decrypt on key alias/seed-shared\n'

#: name -> (files relative to the tmp dir: bytes, the file to check, expected code)
PROPERTY_CASES: dict[str, tuple[dict[str, bytes], str, str]] = {
    "utf-16": ({"p.access": GOOD.encode("utf-16")}, "p.access", "PROP010"),
    "invalid utf-8": ({"p.access": GOOD.encode() + b"# \xff\n"}, "p.access", "PROP010"),
    "binary": ({"p.access": bytes(range(256))}, "p.access", "PROP010"),
    "bom": ({"p.access": b"\xef\xbb\xbf" + GOOD.encode()}, "p.access", "PROP001"),
    "nul byte": ({"p.access": GOOD.encode() + b"\x00"}, "p.access", "PROP001"),
    "include cycle": ({"p.access": b'include "q.access"\n', "q.access": b'include "p.access"\n'}, "q.access",
                      "PROP006"),
    "include itself": ({"p.access": b'include "p.access"\n'}, "p.access", "PROP006"),
    "include a directory": ({"p.access": b'include "."\n'}, "p.access", "PROP010"),
    "include missing": ({"p.access": b'include "nope.access"\n'}, "p.access", "PROP010"),
    "include utf-16": ({"p.access": b'include "q.access"\n', "q.access": GOOD.encode("utf-16")}, "p.access",
                       "PROP010"),
    "include a symlink loop": ({"p.access": b'include "loop"\n'}, "p.access", "PROP010"),
    "environment path with nul": ({"p.access": b'environment "\x00"\n'}, "p.access", "PROP010"),
    "environment path too long": ({"p.access": b'environment "' + b"e" * 5000 + b'"\n'}, "p.access", "PROP010"),
    "environment not yaml": ({"p.access": b'environment "q.access"\n', "q.access": b"{{{\n"}, "q.access",
                             "ENV001"),
    "unknown action": ({"p.access": (ENV_LINE + "assert: nobody can kms:Frobnicate\n").encode()}, "p.access",
                       "PROP003"),
    "wrong kinds": ({"p.access": (ENV_LINE + "assert: nobody can 5 on key kms:Decrypt\n").encode()}, "p.access",
                    "PROP009"),
    "huge number": ({"p.access": (ENV_LINE + 'assert "x" within 1e999999 seconds: nobody can kms:Decrypt\n')
                    .encode()}, "p.access", "PROP001"),
    "key policy not json": ({"p.access": (ENV_LINE + 'assert: key policy "p.access" grants no new access over '
                                          "this on key alias/seed-shared\n").encode()}, "p.access", "PROP009"),
    "unterminated string": ({"p.access": b'environment "seed\n'}, "p.access", "PROP001"),
}


def _seed(tmp_path: Path) -> None:
    """A copy of examples/seed in `tmp_path`, for ENV_LINE (a file may only name files inside its root)."""
    import shutil

    if not (tmp_path / "seed").exists():
        shutil.copytree(SEED, tmp_path / "seed")


def _property_dir(tmp_path: Path, files: dict[str, bytes]) -> None:
    _seed(tmp_path)
    for name, data in files.items():
        write(tmp_path / name, data)
    (tmp_path / "loop").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop")


@pytest.mark.parametrize("name", list(PROPERTY_CASES))
def test_check_hostile_property_file(tmp_path: Path, name: str) -> None:
    files, culprit, code = PROPERTY_CASES[name]
    _property_dir(tmp_path, files)
    path = tmp_path / "p.access"
    status, out, err = cli("check", path)
    assert status == EXIT_INPUT and out == ""
    assert_error(err, tmp_path / culprit, code)
    assert all(len(line) < 600 for line in err.splitlines())
    with pytest.raises(InputError) as info:  # the API raises the same error, with its span
        props.compile_file(path)
    assert info.value.code == code and info.value.span is not None


@pytest.mark.parametrize("kind", ["missing", "symlink loop", "nul in path", "name too long", "lone surrogate"])
def test_check_unusable_paths(tmp_path: Path, kind: str) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop")
    path = {"missing": "missing.access", "symlink loop": "loop", "nul in path": "a\x00.access",
            "name too long": "n" * 5000, "lone surrogate": "\ud800.access"}[kind]
    status, out, err = cli("check", tmp_path / path)
    assert status == EXIT_INPUT and out == ""
    assert [m["code"] for m in error_lines(err)] == ["PROP010"] and "Traceback" not in err


def test_check_directory_with_symlink_loops_terminates(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path)  # a directory loop
    (tmp_path / "loop.access").symlink_to(tmp_path / "loop.access")
    status, _, err = with_watchdog(lambda: cli("check", tmp_path))
    assert status == EXIT_INPUT and "no property files" in err and "INPUT004" in err


@pytest.mark.skipif(not Path("/dev/zero").exists() or not hasattr(os, "mkfifo"), reason="needs /dev/zero")
def test_check_endless_property_file_and_fifo(tmp_path: Path) -> None:
    status, _, err = with_watchdog(lambda: cli("check", "/dev/zero"))
    assert status == EXIT_INPUT
    assert_error(err, "/dev/zero", "PROP010")
    fifo = tmp_path / "p.access"
    os.mkfifo(fifo)
    write(tmp_path / "q.access", 'include "p.access"\n')
    status, _, err = with_watchdog(lambda: cli("check", tmp_path / "q.access"))
    assert status == EXIT_INPUT  # a FIFO named by a file is refused unread (given directly, it reads as empty)
    assert_error(err, tmp_path / "q.access", "INPUT006")


def test_ten_thousand_assertions_compile(tmp_path: Path) -> None:
    """10,000 assertions compile, and an error in the last one is found at its line. (No wall-clock bound: a
    test must not depend on the machine's load; a blow-up shows in the suite's time.)"""
    body = "".join(f'assert "a{i}": nobody can kms:Decrypt on key alias/seed-shared\n' for i in range(10_000))
    _seed(tmp_path)
    path = write(tmp_path / "many.access", ENV_LINE + body)
    assertions = props.compile_file(path)
    assert len(assertions) == 10_000 and assertions[-1].span.line == 10_001
    bad = write(tmp_path / "bad.access", ENV_LINE + body + "assert: nobody can kms:Frobnicate\n")
    status, _, err = cli("check", bad)
    assert status == EXIT_INPUT
    m = assert_error(err, bad, "PROP003")
    assert m["line"] == "10002"


def test_props_parse_text_raises_only_property_errors() -> None:
    for text in ("\ufeffassert: nobody can kms:Decrypt", "assert", "let = 1", "\x00", "assert \"\ud800\"",
                 "environment " + '"' * 10_001, "[" * 100_000):
        with pytest.raises(props.PropertyError) as info:
            props.parse_text(text, "p.access")
        assert ERROR_LINE.match(str(info.value).splitlines()[0]), str(info.value)


def test_check_nothing_is_lost_across_files(tmp_path: Path) -> None:
    """The first error of every property file named is printed, not only the first file's."""
    _seed(tmp_path)
    a = write(tmp_path / "a.access", ENV_LINE + "assert: nobody can kms:Frobnicate\n")
    b = write(tmp_path / "b.access", GOOD.encode("utf-16"))
    c = write(tmp_path / "c.access", 'include "c.access"\n')
    missing = tmp_path / "missing.access"
    status, out, err = cli("check", a, b, missing, c)
    assert status == EXIT_INPUT and out == ""
    assert [(Path(m["file"]).name, m["code"]) for m in error_lines(err)] == [
        ("a.access", "PROP003"), ("b.access", "PROP010"), ("missing.access", "PROP010"), ("c.access", "PROP006")]


# ---- findings / diff / lint ----------------------------------------------------------------------------

def test_findings_diff_lint_report_every_policy_diagnostic(tmp_path: Path) -> None:
    bad = write(tmp_path / "key.json", b'{"Version": 1, "Statement": [{"Effect": true, "Action": {}, '
                                       b'"Resource": [null], "Principal": "*"}]}')
    good = write(tmp_path / "good.json", KEY_POLICY)
    for argv in (("findings", bad), ("diff", good, bad), ("lint", bad)):
        status, out, err = cli(*argv)
        assert status == EXIT_INPUT and out == "", argv
        codes = [m["code"] for m in error_lines(err)]
        assert len(codes) >= 4 and set(codes) == {"POL004"}, (argv, err)
        assert "Traceback" not in err


@pytest.mark.parametrize("command", ["findings", "diff", "lint"])
def test_findings_diff_lint_hostile_files(tmp_path: Path, command: str) -> None:
    d = _manifest_dir(tmp_path)
    cases = {
        write(d / "bomb.yaml", _laughs_under("keys")): "ENV003",
        write(d / "tag.yaml", "keys: !!python/object/apply:os.system ['echo pwned']\n"): "ENV003",
        write(d / "deep.yaml", b"[" * 100_000): "ENV001",
        write(d / "utf16.json", KEY_POLICY.encode("utf-16")): "INPUT002",
        write(d / "deep.json", b"[" * 100_000): "POL033",
        d / "big.json": "INPUT005",
        d / "missing.yaml": "ENV004",
    }
    for path, code in cases.items():
        argv = (command, path, path) if command == "diff" else (command, path)
        status, out, err = cli(*argv)
        assert status == EXIT_INPUT and out == "", (path, err)
        assert_error(err, path, code)


# ---- through the console script ------------------------------------------------------------------------

def _console(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run([sys.executable, "-m", "reasoner", *map(str, argv)], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env=env, check=False)


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="needs POSIX devices")
def test_console_script_hostile_inputs(tmp_path: Path) -> None:
    """A few hostile inputs end to end: the real streams, the real exit status, never a traceback."""
    os.mkfifo(tmp_path / "fifo.json")
    write(tmp_path / "tag.yaml", "keys: !!python/object/apply:os.system ['echo pwned']\n")
    write(tmp_path / "p.access", GOOD.encode("utf-16"))
    write(tmp_path / "surrogate.json", policy(ALLOW.replace('"Effect"', '"Sid": "\\ud800", "Effect"')))
    runs = {
        ("validate", "fifo.json"): (EXIT_FINDINGS, "stdout", "fifo.json", "PARSE001"),
        ("validate", "/dev/zero"): (EXIT_INPUT, "stdout", "/dev/zero", "INPUT005"),
        ("validate", "surrogate.json"): (EXIT_FINDINGS, "stdout", "surrogate.json", "POL024"),
        ("decide", "tag.yaml", *REQUEST): (EXIT_INPUT, "stderr", "tag.yaml", "ENV003"),
        ("check", "p.access"): (EXIT_INPUT, "stderr", "p.access", "PROP010"),
        ("findings", "/dev/zero"): (EXIT_INPUT, "stderr", "/dev/zero", "ENV004"),
    }
    for argv, (status, stream, file, code) in runs.items():
        proc = _console(*argv, cwd=tmp_path)
        assert proc.returncode == status, (argv, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        assert_error(proc.stdout if stream == "stdout" else proc.stderr, file, code)
    # a lone surrogate reaches a strict ASCII terminal escaped, not as a UnicodeEncodeError
    proc = subprocess.run([sys.executable, "-m", "reasoner", "validate", "surrogate.json"], cwd=tmp_path,
                          capture_output=True, timeout=60, env={**os.environ, "PYTHONIOENCODING": "ascii"},
                          check=False)
    assert proc.returncode == EXIT_FINDINGS and b"Traceback" not in proc.stderr
    assert b"\\ud800" in proc.stdout


def test_every_error_is_a_reasoner_error(tmp_path: Path) -> None:
    """The API raises nothing but `ReasonerError`s on hostile files (no OSError, ValueError, RecursionError)."""
    d = _manifest_dir(tmp_path)
    hostile = [write(d / f"m{i}.yaml", data) for i, (data, _) in enumerate(MANIFEST_CASES.values())]
    for path in hostile:
        with pytest.raises(ReasonerError):
            load_environment(path)
    for data, _, status in POLICY_CASES.values():
        path = write(d / "p.json", data)
        with pytest.raises(ReasonerError):
            load_policy(path)
        assert status in (EXIT_INPUT, EXIT_FINDINGS)


# ---- hostile wildcard patterns (no catastrophic backtracking) ------------------------------------------

def test_wildcard_patterns_with_many_stars_do_not_backtrack(tmp_path: Path) -> None:
    """`*a*a*...*b` in a Resource, a StringLike and an ArnLike value, against long `aaa...` request values:
    a backtracking regex would run for hours; the decision comes back at once (the Deny does not match)."""
    hostile = "*a" * 40 + "*b"
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:*:key/" + hostile,
            "Condition": {"StringLike": {"kms:EncryptionContext:x": hostile},
                          "ArnLike": {"ec2:SourceInstanceARN": "arn:aws:s3:::" + hostile}}}
    key_id = "a" * 300
    doc = json.loads(KEY_POLICY)
    doc["Statement"].append(deny)
    write(tmp_path / "key.json", json.dumps(doc))
    env = write(tmp_path / "env.yaml", f"keys:\n  - arn: arn:aws:kms:us-west-2:111122223333:key/{key_id}\n"
                                       "    policy: key.json\n")
    start = time.process_time()
    status, out, err = cli("decide", env, "--principal", "arn:aws:iam::111122223333:root", "--action", "kms:Decrypt",
                           "--resource", f"arn:aws:kms:us-west-2:111122223333:key/{key_id}",
                           "--context", "kms:EncryptionContext:x=" + "a" * 300,
                           "--context", "ec2:SourceInstanceARN=arn:aws:s3:::" + "a" * 300)
    assert time.process_time() - start < 5
    assert (status, out.splitlines()[0], err) == (EXIT_OK, "ALLOW", "")


_PATTERN_CHARS = "ab:/*?A"
_SUBJECT_CHARS = "abAB:/"


def _subject_for(data: st.DataObject, pattern: str) -> str:
    """A subject near `pattern`: each `*` and `?` filled with random text, letters in random case (so that
    most subjects almost match, where matchers differ), or a random string."""
    if data.draw(st.booleans()):
        return data.draw(st.text(_SUBJECT_CHARS, max_size=14))
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(data.draw(st.text(_SUBJECT_CHARS, max_size=3)))
        elif ch == "?":
            out.append(data.draw(st.sampled_from(_SUBJECT_CHARS)))
        else:
            out.append(data.draw(st.sampled_from([ch, ch.swapcase()])))
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.text(_PATTERN_CHARS, max_size=12), st.booleans(), st.data())
def test_automaton_agrees_with_the_glob_regex(pattern: str, fold: bool, data: st.DataObject) -> None:
    from reasoner.semantics.patterns import _automaton_fullmatch, compile_glob

    glob = compile_glob(pattern, ignore_case=fold)
    assert glob._regex is not None
    subject = _subject_for(data, pattern)
    assert _automaton_fullmatch(glob._atoms, subject) == (glob._regex.fullmatch(subject) is not None)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_PATTERN_CHARS.replace(":", ""), max_size=4), min_size=6, max_size=7), st.data())
def test_automaton_agrees_with_the_resource_regex(segments: list[str], data: st.DataObject) -> None:
    """Segment-wise Resource matching (semantics §2.2): inner wildcards stop at `:`, a segment-final `*` may
    cross colons, the first five segments ignore case."""
    from reasoner.semantics.patterns import _automaton_fullmatch, compile_resource

    pattern = ":".join(segments)
    compiled = compile_resource(pattern)
    if compiled._regex is None:  # `*` alone, or no wildcard in a short pattern
        return
    subject = _subject_for(data, pattern)
    assert _automaton_fullmatch(compiled._atoms, subject) == (compiled._regex.fullmatch(subject) is not None)


# ---- hostile command-line values ------------------------------------------------------------------------

def _registered_code_line(err: str) -> str:
    """The `error: CODE message` line of a command-line error (no file: the culprit is an argument)."""
    lines = [line for line in err.splitlines() if re.match(r"^(?:.+?: )?error: [A-Z]+\d{3} ", line)]
    assert lines and "Traceback" not in err and "INTERNAL" not in err, err
    code = re.search(r"error: ([A-Z]+\d{3}) ", lines[0])
    assert code is not None and code.group(1) in CODES, err
    return code.group(1)


def test_hostile_command_line_values(tmp_path: Path) -> None:
    env = SEED / "environment.yaml"
    seed_access = ROOT / "examples" / "seed.access"
    key_policy = SEED / "key-policy.json"
    cases: list[tuple[tuple[str | Path, ...], str]] = [
        (("check", seed_access, "--dump", "smt2", "/dev/null/x"), "INPUT004"),
        (("check", seed_access, "--dump", "smt3", tmp_path), "INPUT004"),
        (("decide", env, *REQUEST, "--context", "="), "INPUT004"),
        (("decide", env, *REQUEST[:-1], "\x01\ud800"), "EVAL004"),
        (("findings", key_policy, "--key-arn", "bogus"), "INPUT004"),
        (("findings", env, "--key-arn", KEY_ARN), "INPUT004"),
        (("findings", env, "--zone-of-trust", "bogus"), "INPUT004"),
        (("validate", key_policy, "--key-account", "1"), "INPUT004"),
    ]
    for argv, code in cases:
        status, out, err = cli(*argv)
        assert status == EXIT_INPUT and out == "", (argv, out, err)
        assert _registered_code_line(err) == code, (argv, err)
    for argv2 in (("check", seed_access, "--timeout", "inf"), ("check", seed_access, "--timeout", "nan"),
                  ("findings", env, "--timeout", "1e999"), ("check", seed_access, "--jobs", "0")):
        status, _, err = cli(*argv2)  # argparse's own usage error, exit 2
        assert status == EXIT_INPUT and "Traceback" not in err


def test_within_zero_seconds_is_an_error_not_the_default(tmp_path: Path) -> None:
    _seed(tmp_path)
    path = write(tmp_path / "p.access", ENV_LINE + 'assert "x" within 0 seconds: nobody can kms:Decrypt\n')
    status, _, err = cli("check", path)
    assert status == EXIT_INPUT
    m = assert_error(err, path, "PROP009")
    assert (m["line"], m["col"]) == ("2", "19")


def test_environment_without_keys_is_reported_at_the_manifest(tmp_path: Path) -> None:
    env = write(tmp_path / "env.yaml", "accounts:\n  - id: '111122223333'\n")
    path = write(tmp_path / "p.access", 'environment "env.yaml"\nassert: nobody can kms:Decrypt\n')
    for argv in (("check", path), ("findings", env), ("lint", env), ("diff", env, env)):
        status, _, err = cli(*argv)
        assert status == EXIT_INPUT
        assert error_lines(err) and all(m["code"] in CODES for m in error_lines(err)), err


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    """An ESC sequence, a bare CR or a NUL in a file is shown as U+FFFD in the snippet (carets stay aligned)
    and escaped in messages, so a hostile file cannot rewrite the terminal."""
    path = write(tmp_path / "p.json",
                 b'{"Version": "2012-10-17", "Statement": [\r{"Sid": "\x1b[2J\x00", "Eff\rect": 1}]}')
    status, out, err = cli("validate", path)
    assert status == EXIT_FINDINGS and err == ""
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", out), out
    prop = write(tmp_path / "p.access", b"\x1b[2J\rassert")
    status, _, err = cli("check", prop)
    assert status == EXIT_INPUT and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", err), err


def test_hostile_claim_strings_through_the_api() -> None:
    """`reasoner.check(env, "claim")` parses claims with `props.compile_claim`: only `PropertyError`s."""
    from reasoner.semantics.environment import Environment as Env

    env = Env()
    for claim in ("", "\x00", "nobody can", "nobody can kms:Decrypt on key " + "k" * 100_000, "[" * 100_000,
                  "nobody can kms:Frobnicate", "\ud800 can kms:Decrypt", "nobody can kms:Decrypt on key alias/x"):
        with pytest.raises(props.PropertyError) as info:
            props.compile_claim(claim, env)
        assert info.value.code in CODES and "\n" not in info.value.message


def test_parse_environment_api_on_hostile_text() -> None:
    for text, code in (("keys: !!python/object/apply:os.system ['true']\n", "ENV003"), ("[" * 100_000, "ENV001"),
                       (_laughs_under("keys"), "ENV003"), ("keys: [\x00]\n", "ENV001")):
        with pytest.raises(InputError) as info:
            parse_environment(text, file="m.yaml")
        assert info.value.code == code and info.value.span is not None and info.value.span.file == "m.yaml"
