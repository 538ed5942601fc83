"""Typed condition values (semantics §3.3): numbers, dates, booleans, IP ranges, base64."""

from __future__ import annotations

import ipaddress
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoner.semantics.values import (
    decode_base64,
    ip_in_network,
    parse_bool,
    parse_instant,
    parse_ip_address,
    parse_ip_network,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("10", Decimal(10)),
        ("-3.5", Decimal("-3.5")),
        (".5", Decimal("0.5")),
        ("7.", Decimal(7)),
        (" 42 ", Decimal(42)),
        ("1e3", None),
        ("NaN", None),
        ("abc", None),
        ("", None),
        ("1,000", None),
    ],
)
def test_number(text: str, want: Decimal | None) -> None:
    assert parse_number(text) == want


EPOCH_2026 = Decimal(1767225600)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00Z",
        "2026-01-01T01:00:00+01:00",
        "2025-12-31T19:00:00-05:00",
        "1767225600",
        "2026-01-01T00:00:00.000Z",
        "2026-01-01T00:00:00",
        "20260101T000000Z",
    ],
)
def test_instant_forms_agree(text: str) -> None:
    assert parse_instant(text) == EPOCH_2026  # §6.59: ISO and epoch are the same instant


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "2026-01-01T25:00:00Z"])
def test_bad_instant(text: str) -> None:
    assert parse_instant(text) is None


def test_fractional_instant() -> None:
    assert parse_instant("2026-01-01T00:00:00.5Z") == EPOCH_2026 + Decimal("0.5")


@pytest.mark.parametrize(
    ("text", "want"),
    [("true", True), ("FALSE", False), ("True", True), ("yes", None), ("1", None), ("", None)],
)
def test_bool(text: str, want: bool | None) -> None:
    assert parse_bool(text) is want


def test_networks() -> None:
    assert parse_ip_network("203.0.113.0/24") == ipaddress.ip_network("203.0.113.0/24")
    assert parse_ip_network("203.0.113.5") == ipaddress.ip_network("203.0.113.5/32")
    assert parse_ip_network("2001:db8::1") == ipaddress.ip_network("2001:db8::1/128")
    assert parse_ip_network("203.0.113.7/24") == ipaddress.ip_network("203.0.113.0/24")  # host bits allowed
    assert parse_ip_network("2001:DB8::/32") == ipaddress.ip_network("2001:db8::/32")
    assert parse_ip_network("300.1.1.1/8") is None
    assert parse_ip_network("10.0.0.0/33") is None


def test_membership_and_families() -> None:
    net4 = parse_ip_network("10.0.0.0/8")
    net6 = parse_ip_network("::/0")
    a4 = parse_ip_address("10.1.2.3")
    a6 = parse_ip_address("2001:db8::1")
    assert net4 is not None and net6 is not None and a4 is not None and a6 is not None
    assert ip_in_network(a4, net4)
    assert not ip_in_network(a6, net4)
    assert not ip_in_network(a4, net6)  # family mismatch: not in range (§3.3, SIM)
    assert ip_in_network(a6, net6)
    assert parse_ip_address("10.0.0.0/8") is None


def test_base64() -> None:
    assert decode_base64("QmluYXJ5VmFsdWU=") == b"BinaryValue"
    assert decode_base64("not base64!") is None
    assert decode_base64("QmluYXJ5VmFsdWU") is None  # padding required


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integers_round_trip(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_instant(str(n)) == n


@given(st.datetimes(timezones=st.just(__import__("datetime").UTC)))
def test_iso_round_trip(moment) -> None:  # type: ignore[no-untyped-def]
    got = parse_instant(moment.isoformat())
    assert got is not None
    assert abs(float(got) - moment.timestamp()) < 1e-3
