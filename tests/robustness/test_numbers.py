"""Numbers in policies are bounded (reasoner/semantics/values.py `MAX_NUMBER_DIGITS`, POL036).

A 5,000-digit number under `NumericLessThan` passed `validate` and made `lint`, `findings`, `diff` and
`check` exit 4 (the solver's exact reals went through `int(str)`, which Python caps at 4,300 digits); a
decimal of 4,400 digits gave `INTERNAL unexpected ValueError`. Now a condition value under a `Numeric*`
operator (or epoch seconds under `Date*`) has at most 40 digits, not counting leading zeros of the integer
part or trailing zeros of the fraction: beyond that it is a located validation error (exit 1 for
`validate`, exit 2 for the analyses, which refuse the policy), and `parse_number` / `parse_instant` return
None, so no arithmetic ever runs on an unbounded digit string. Every command runs in process; the
rejected ones stop before any analysis, the accepted ones are small: the module runs in about a second.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from reasoner.errors import CODES
from reasoner.face.cli import EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, main
from reasoner.front.parse import parse_and_validate
from reasoner.semantics.values import (
    MAX_NUMBER_DIGITS,
    number_digits,
    parse_instant,
    parse_ip_address,
    parse_ip_network,
    parse_number,
)

KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ERROR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<code>[A-Z]+\d{3}) (?P<msg>.*)$",
                        re.M)
HUGE_INTEGER = "9" * 5_000
HUGE_DECIMAL = "1." + "1" * 4_400


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], out, err)
    return status, out.getvalue(), err.getvalue()


def key_policy(operator: str, key: str, value: str) -> str:
    """A key policy: the account administers the key; anyone may decrypt under one numeric condition. The
    value is on line 4, column 34 + len(operator) + len(key)."""
    return ('{"Version": "2012-10-17", "Statement": [\n'
            '  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", '
            '"Resource": "*"},\n'
            '  {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",\n'
            f'   "Condition": {{"{operator}": {{"{key}": "{value}"}}}}}}]}}\n')


def value_col(operator: str, key: str) -> int:
    return len('   "Condition": {"') + len(operator) + len('": {"') + len(key) + len('": ') + 1


def setup(tmp_path: Path, value: str, operator: str = "NumericLessThan",
          key: str = "aws:MultiFactorAuthAge") -> tuple[Path, Path, Path]:
    policy = tmp_path / "key.json"
    policy.write_text(key_policy(operator, key, value))
    manifest = tmp_path / "env.yaml"
    manifest.write_text(f"keys:\n  - arn: {KEY_ARN}\n    policy: key.json\n")
    access = tmp_path / "p.access"
    access.write_text('environment "env.yaml"\nassert: nobody can kms:Decrypt\n')
    return policy, manifest, access


def codes(text: str) -> list[str]:
    return [m["code"] for m in ERROR_LINE.finditer(text)]


@pytest.mark.parametrize("value", [HUGE_INTEGER, HUGE_DECIMAL, "-" + HUGE_INTEGER, "0." + "0" * 4_999 + "1",
                                   "1" + "0" * 4_400])
def test_huge_numbers_are_refused_by_every_command(tmp_path: Path, value: str) -> None:
    policy, manifest, access = setup(tmp_path, value)
    status, out, err = cli("validate", policy)
    assert status == EXIT_FINDINGS and err == ""
    hits = [m for m in ERROR_LINE.finditer(out) if m["code"] == "POL036"]
    assert len(hits) == 1 and (hits[0]["file"], hits[0]["line"], hits[0]["col"]) == (
        str(policy), "4", str(value_col("NumericLessThan", "aws:MultiFactorAuthAge")))
    assert f"has {number_digits(value)} digits" in hits[0]["msg"] and len(hits[0]["msg"]) < 200
    key_request = ["--principal", "arn:aws:iam::444455556666:root", "--action", "kms:Decrypt",
                   "--resource", KEY_ARN]
    runs: list[tuple[str | Path, ...]] = [
        ("decide", manifest, *key_request), ("check", access), ("findings", manifest),
        ("diff", manifest, manifest), ("lint", manifest), ("findings", policy), ("diff", policy, policy),
        ("lint", policy)]
    for argv in runs:
        status, out, err = cli(*argv)
        assert status == EXIT_INPUT and out == "", (argv, status, out, err)
        assert "INTERNAL" not in err and "Traceback" not in err and "4300" not in err, err
        assert "POL036" in err, (argv, err)
        assert codes(err)[0] in ("ENV005", "POL036"), err
        assert max(len(line) for line in err.splitlines()) < 600


def test_date_operators_bound_epoch_seconds(tmp_path: Path) -> None:
    policy, manifest, _ = setup(tmp_path, HUGE_INTEGER, operator="DateLessThan", key="aws:EpochTime")
    status, out, _ = cli("validate", policy)
    assert status == EXIT_FINDINGS and codes(out) == ["POL036"]
    status, _, err = cli("findings", manifest)
    assert status == EXIT_INPUT and "POL036" in err


@pytest.mark.parametrize(("value", "ok"), [
    ("9" * MAX_NUMBER_DIGITS, True),
    ("9" * (MAX_NUMBER_DIGITS + 1), False),
    ("0" * 5_000 + "9" * MAX_NUMBER_DIGITS, True),  # leading zeros do not count
    ("1." + "5" * (MAX_NUMBER_DIGITS - 1) + "0" * 5_000, True),  # nor trailing zeros of the fraction
    ("." + "0" * (MAX_NUMBER_DIGITS - 1) + "1", True),
    ("." + "0" * MAX_NUMBER_DIGITS + "1", False),  # zeros after the point before a digit do
    ("1" + "0" * MAX_NUMBER_DIGITS, False),
    ("-" + "9" * MAX_NUMBER_DIGITS + ".", True),
])
def test_the_bound_is_exact(value: str, ok: bool) -> None:
    text = key_policy("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", value)
    _, diags = parse_and_validate(text, file="k.json")
    got = [d.code for d in diags if d.is_error]
    assert got == ([] if ok else ["POL036"]), got
    assert (parse_number(value) is not None) == ok


def test_in_bound_numbers_go_through_the_analyses(tmp_path: Path) -> None:
    """40 digits, with a fraction, and a 40-digit epoch: the solver's exact reals stay small."""
    value = "9" * 35 + "." + "12345"
    policy, manifest, access = setup(tmp_path, value)
    assert cli("validate", policy)[0] == EXIT_OK
    for argv in (("findings", manifest), ("lint", manifest), ("diff", manifest, manifest), ("check", access)):
        status, out, err = cli(*argv)
        assert status not in (EXIT_INPUT, EXIT_INTERNAL), (argv, out, err)
        assert "INTERNAL" not in out + err
    assert value in cli("findings", manifest)[1]  # the public finding names the bound value


def test_huge_request_value_compares_false(tmp_path: Path) -> None:
    """`--context` with a 5,000-digit number: unparseable, so the numeric comparison is false (like any
    unparseable request value, semantics §3.3), never a crash."""
    _, manifest, _ = setup(tmp_path, "3600")
    request = ["--principal", "arn:aws:iam::444455556666:root", "--action", "kms:Decrypt", "--resource", KEY_ARN]
    status, out, err = cli("decide", manifest, *request, "--context", "aws:MultiFactorAuthAge=60")
    assert (status, err) == (EXIT_OK, "") and out.startswith("ALLOW")
    status, out, err = cli("decide", manifest, *request, "--context", f"aws:MultiFactorAuthAge={HUGE_INTEGER}")
    assert (status, err) == (EXIT_FINDINGS, "") and not out.startswith("ALLOW")


def test_parsers_never_reach_the_int_digit_limit() -> None:
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4_300
    for text in (HUGE_INTEGER, HUGE_DECIMAL, "9" * (limit + 1), "-" + "1" * 100_000, "." + "1" * 100_000):
        assert parse_number(text) is None
        assert parse_instant(text) is None
        assert (number_digits(text) or 0) > MAX_NUMBER_DIGITS
    for text in ("1.2.3.4/" + "1" * 5_000, "1" * 5_000, "::" + "f" * 5_000):
        assert parse_ip_network(text) is None and parse_ip_address(text) is None
    assert parse_ip_network("10.0.0.0/8") is not None
    assert parse_number(" 007.50 ") == parse_number("7.5") and parse_number("1e5") is None
    assert "POL036" in CODES


def test_long_ip_text_is_a_warning_not_a_crash() -> None:
    text = key_policy("IpAddress", "aws:SourceIp", "1.2.3.4/" + "1" * 5_000)
    _, diags = parse_and_validate(text, file="k.json")
    assert [d.code for d in diags if d.code.startswith("POL1")].count("POL115") == 1
    assert not [d for d in diags if d.is_error]
