"""Typed condition values: numbers, dates, booleans, IP ranges and base64 (semantics §3.3).

Input: a value as written in a policy or given in a request context (always a string).
Output: a comparable Python value, or None when the text does not parse (the comparison is then false).
Guarantee: pure and cached; numbers are exact `Decimal`s; dates are instants in epoch seconds (`Decimal`,
time zones normalised, naive times read as UTC); a bare IP address is a /32 or /128 network.
Bounded: a number (or epoch-seconds date) of more than `MAX_NUMBER_DIGITS` digits, and an IP text longer
than `MAX_IP_TEXT` characters, do not parse (None), so no arithmetic ever runs on an unbounded digit string
and Python's 4,300-digit limit on `int(str)` cannot be reached. `validate` rejects such policy values
(POL036) before anything evaluates them; a request value of that size compares false like any other
unparseable value.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IP = TypeVar("_IP", IPNetwork, IPAddress)

_NUMBER = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?")
_EPOCH = re.compile(r"[+-]?\d+(?:\.\d+)?")
_EPOCH_ORIGIN = datetime(1970, 1, 1, tzinfo=UTC)

#: The most digits a number may have, not counting leading zeros of its integer part or trailing zeros of
#: its fraction (`007.50` has 2). Real condition values have a few (`30`, `3600`, epoch seconds have 10); the
#: bound keeps every number below 10**40 in magnitude and above 10**-40 in resolution, so exact arithmetic
#: (Decimal, Fraction, the solver's reals) stays small and `int(str)` never meets Python's 4,300-digit limit.
MAX_NUMBER_DIGITS = 40

#: The longest text read as an IP address or CIDR block (the longest valid one,
#: `0000:0000:0000:0000:0000:ffff:255.255.255.255/128`, has 49 characters).
MAX_IP_TEXT = 64


def number_digits(text: str) -> int | None:
    """The digits of an integer or decimal number as `MAX_NUMBER_DIGITS` counts them (leading zeros of the
    integer part and trailing zeros of the fraction not counted), or None if `text` (stripped) is not an
    integer or decimal (`12`, `-3.5`, `.5`, `5.`; no exponent). Linear in the length of the text."""
    m = _NUMBER.fullmatch(text.strip())
    if m is None:
        return None
    whole, fraction = m.group(2), m.group(3)
    if not whole and not fraction:  # `""`, `+`, `.`
        return None
    return len(whole.lstrip("0")) + len((fraction or "").rstrip("0"))


def _bounded_decimal(text: str) -> Decimal | None:
    """`Decimal(text)` for an integer or decimal of at most `MAX_NUMBER_DIGITS` digits, else None; built
    from the digits without the zeros that do not count, so its coefficient has at most that many digits."""
    text = text.strip()
    digits = number_digits(text)
    if digits is None or digits > MAX_NUMBER_DIGITS:
        return None
    m = _NUMBER.fullmatch(text)
    assert m is not None
    sign, whole, fraction = m.group(1), m.group(2).lstrip("0") or "0", (m.group(3) or "").rstrip("0")
    try:
        return Decimal(f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}")
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None


@lru_cache(maxsize=4096)
def parse_number(text: str) -> Decimal | None:
    """An integer or decimal number (`12`, `-3.5`, `.5`) of at most `MAX_NUMBER_DIGITS` digits; anything
    else (exponents, `NaN`, words, longer numbers): None."""
    return _bounded_decimal(text)


@lru_cache(maxsize=4096)
def parse_instant(text: str) -> Decimal | None:
    """A date/time as epoch seconds: W3C ISO-8601 profiles (`2026-01-01`, `2026-01-01T10:00Z`,
    `2026-01-01T10:00:00.5+02:00`, `20260101T100000Z`) or epoch seconds (`1767225600`)."""
    text = text.strip()
    if not text:
        return None
    if _EPOCH.fullmatch(text):
        return _bounded_decimal(text)
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH_ORIGIN
    return Decimal(delta.days) * 86400 + Decimal(delta.seconds) + Decimal(delta.microseconds) / 1_000_000


@lru_cache(maxsize=256)
def parse_bool(text: str) -> bool | None:
    """`true` / `false` in any case; anything else: None."""
    low = text.strip().lower()
    if low == "true":
        return True
    if low == "false":
        return False
    return None


@lru_cache(maxsize=4096)
def parse_ip_network(text: str) -> IPNetwork | None:
    """A CIDR block (IPv4 or IPv6; host bits allowed); a bare address is a /32 or /128."""
    return _parse_ip(text, lambda t: ipaddress.ip_network(t, strict=False))


@lru_cache(maxsize=4096)
def parse_ip_address(text: str) -> IPAddress | None:
    """A single IPv4 or IPv6 address."""
    return _parse_ip(text, ipaddress.ip_address)


def _parse_ip(text: str, parse: Callable[[str], _IP]) -> _IP | None:
    """`parse` of the stripped text; None when it is longer than `MAX_IP_TEXT` or does not parse."""
    text = text.strip()
    if len(text) > MAX_IP_TEXT:
        return None
    try:
        return parse(text)
    except ValueError:
        return None


def ip_in_network(address: IPAddress, network: IPNetwork) -> bool:
    """Membership; an address of the other family is never in the network (semantics §3.3)."""
    return address.version == network.version and address in network


@lru_cache(maxsize=1024)
def decode_base64(text: str) -> bytes | None:
    """Strict base64 (padding required); None when malformed."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
