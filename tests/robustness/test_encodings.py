"""UTF-16 and UTF-32 input is refused in one error, in linear time (reasoner/front/parse.py `wide_encoding`).

AWS reads policies as UTF-8. A file saved as UTF-16 or UTF-32 (LE or BE, with or without a byte-order mark;
PowerShell's `>` writes UTF-16LE with a mark, some editors write it without) is recognised and refused as
one INPUT002 error at `file:1:1` (ENV004 for a manifest, PROP010 for a property file), never decoded.
Without a mark, such text used to decode as UTF-8 with a NUL every other byte: one POL024 per NUL, each
printed with its (one long) source line, so `validate` took 5 s on 18 KB and over 2 minutes on 123 KB.
The tests count diagnostics, they do not time anything.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from reasoner.errors import InputError
from reasoner.face.cli import EXIT_FINDINGS, EXIT_INPUT, main
from reasoner.front import parse as parse_module
from reasoner.front import validate as validate_module
from reasoner.front.manifest import load_environment
from reasoner.front.parse import load_policy, parse_and_validate, wide_encoding
from reasoner.language import property_files as props

KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REQUEST = ["--principal", "arn:aws:iam::111122223333:root", "--action", "kms:Decrypt", "--resource", KEY_ARN]
ERROR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<code>[A-Z]+\d{3}) ", re.M)

ENCODINGS = {  # name -> (codec, BOM written by the codec)
    "UTF-16LE": ("utf-16-le", b"\xff\xfe"),
    "UTF-16BE": ("utf-16-be", b"\xfe\xff"),
    "UTF-32LE": ("utf-32-le", b"\xff\xfe\x00\x00"),
    "UTF-32BE": ("utf-32-be", b"\x00\x00\xfe\xff"),
}
CASES = [(name, bom) for name in ENCODINGS for bom in (True, False)]


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], out, err)
    return status, out.getvalue(), err.getvalue()


def encode(text: str, name: str, bom: bool) -> bytes:
    codec, mark = ENCODINGS[name]
    return (mark if bom else b"") + text.encode(codec)


def big_policy(statements: int) -> str:
    """A key policy of `statements` statements (about 150 bytes each as UTF-8)."""
    body = [{"Sid": f"S{i}", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "kms:Decrypt", "Resource": "*"} for i in range(statements)]
    return json.dumps({"Version": "2012-10-17", "Statement": body})


POLICY = big_policy(2)


@pytest.mark.parametrize(("name", "bom"), CASES)
def test_wide_encodings_are_recognised(name: str, bom: bool) -> None:
    assert wide_encoding(encode(POLICY, name, bom)) == (name, bom)
    assert wide_encoding(encode("keys: []\n", name, bom)) == (name, bom)  # short files too


@pytest.mark.parametrize("data", [
    POLICY.encode(), b"", b"{}", b'{"Ver\x00sion": 1}', b"\x00" + POLICY.encode(), bytes(range(128)) * 4,
    b"\x00" * 64, "Café “quoted” 日本語".encode(), b"\xef\xbb\xbf" + POLICY.encode(), b"a\x00",
])
def test_utf8_and_stray_nuls_are_not_mistaken_for_wide_text(data: bytes) -> None:
    assert wide_encoding(data) is None


@pytest.mark.parametrize(("name", "bom"), CASES)
def test_validate_gives_one_error(tmp_path: Path, name: str, bom: bool) -> None:
    path = tmp_path / "policy.json"
    path.write_bytes(encode(POLICY, name, bom))
    status, out, err = cli("validate", path)
    assert status == EXIT_INPUT and err == ""
    errors = ERROR_LINE.findall(out)
    assert errors == [(str(path), "1", "1", "INPUT002")], out
    assert f"is {name} text ({'with' if bom else 'without'} a byte-order mark), not utf-8" in out
    with pytest.raises(InputError) as info:
        load_policy(path)
    assert info.value.code == "INPUT002"


@pytest.mark.parametrize(("name", "bom"), CASES)
def test_manifests_and_property_files_give_one_error(tmp_path: Path, name: str, bom: bool) -> None:
    manifest = tmp_path / "env.yaml"
    manifest.write_bytes(encode(f"keys:\n  - arn: {KEY_ARN}\n    policy: key.json\n", name, bom))
    status, out, err = cli("decide", manifest, *REQUEST)
    assert status == EXIT_INPUT and out == ""
    assert ERROR_LINE.findall(err) == [(str(manifest), "1", "1", "ENV004")], err
    with pytest.raises(InputError):
        load_environment(manifest)
    access = tmp_path / "p.access"
    access.write_bytes(encode('assert: nobody can kms:Decrypt\n', name, bom))
    status, out, err = cli("check", access)
    assert status == EXIT_INPUT and ERROR_LINE.findall(err) == [(str(access), "1", "1", "PROP010")], err
    including = tmp_path / "q.access"
    including.write_text('include "p.access"\n')  # reported at the include, once
    status, _, err = cli("check", including)
    assert status == EXIT_INPUT and ERROR_LINE.findall(err) == [(str(including), "1", "9", "PROP010")], err
    with pytest.raises(props.PropertyError):
        props.compile_file(including)


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_policy_named_by_a_manifest(tmp_path: Path, name: str) -> None:
    (tmp_path / "key.json").write_bytes(encode(POLICY, name, False))
    manifest = tmp_path / "env.yaml"
    manifest.write_text(f"keys:\n  - arn: {KEY_ARN}\n    policy: key.json\n")
    status, _, err = cli("findings", manifest)
    assert status == EXIT_INPUT and ERROR_LINE.findall(err) == [(str(manifest), "3", "13", "ENV004")], err
    assert name in err


def test_123_kb_of_utf16_without_bom_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The measured case: 123 KB took over 2 minutes with one diagnostic per NUL. Now one error, and the
    parser (whose per-character check made the quadratic report) is never reached."""
    text = big_policy(470)
    path = tmp_path / "big.json"
    path.write_bytes(text.encode("utf-16-le"))
    assert path.stat().st_size > 123_000
    calls: list[object] = []
    real = parse_module.parse_and_validate

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(parse_module, "parse_and_validate", spy)
    for fmt in ("text", "json"):
        status, out, _ = cli("validate", "--format", fmt, path)
        assert status == EXIT_INPUT
        if fmt == "json":
            diagnostics = [d for f in json.loads(out)["files"] for d in f["diagnostics"]]
            assert [d["code"] for d in diagnostics] == ["INPUT002"]
        else:
            assert len(ERROR_LINE.findall(out)) == 1
    assert calls == []  # refused by the reader, before parsing


def test_text_with_a_nul_every_other_character_is_bounded_in_the_api() -> None:
    """Text decoded by a caller (the API takes `str`) can still hold UTF-16 read as Latin-1: the
    character-set check reports at most `MAX_CHARACTER_DIAGNOSTICS` runs, the last counting the rest."""
    text = big_policy(470).encode("utf-16-le").decode("latin-1")
    doc, diags = parse_and_validate(text, file="big.json")
    assert doc is None
    bad = [d for d in diags if d.code == "POL024"]  # the first NUL is also the PARSE001 position: dropped
    assert validate_module.MAX_CHARACTER_DIAGNOSTICS - 1 <= len(bad) <= validate_module.MAX_CHARACTER_DIAGNOSTICS
    assert len(diags) <= validate_module.MAX_CHARACTER_DIAGNOSTICS + 1
    rest = text.count("\x00") - validate_module.MAX_CHARACTER_DIAGNOSTICS
    assert f"{rest} more such characters follow" in bad[-1].message


def test_few_bad_characters_are_each_reported(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(POLICY.replace('"S0"', '"S\u201c0\u201d"').replace('"S1"', '"S\u20141"'), encoding="utf-8")
    status, out, _ = cli("validate", path)
    assert status == EXIT_FINDINGS
    assert [m[3] for m in ERROR_LINE.findall(out)].count("POL024") == 3
    assert "not reported one by one" not in out


def test_utf8_bom_is_still_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b"\xef\xbb\xbf" + POLICY.encode())
    status, out, _ = cli("validate", path)
    assert status == EXIT_FINDINGS and "PARSE001" in out and "byte order mark" in out
