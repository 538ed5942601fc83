"""Typed condition values: numbers, dates, booleans, IP ranges and base64 (semantics §3.3).

Input: a value as written in a policy or given in a request context (always a string).
Output: a comparable Python value, or None when the text does not parse (the comparison is then false).
Guarantee: pure and cached; numbers are exact `Decimal`s; dates are instants in epoch seconds (`Decimal`,
time zones normalised, naive times read as UTC); a bare IP address is a /32 or /128 network.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_EPOCH = re.compile(r"[+-]?\d+(?:\.\d+)?")
_EPOCH_ORIGIN = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=4096)
def parse_number(text: str) -> Decimal | None:
    """An integer or decimal number (`12`, `-3.5`, `.5`); anything else (exponents, `NaN`, words): None."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None


@lru_cache(maxsize=4096)
def parse_instant(text: str) -> Decimal | None:
    """A date/time as epoch seconds: W3C ISO-8601 profiles (`2026-01-01`, `2026-01-01T10:00Z`,
    `2026-01-01T10:00:00.5+02:00`, `20260101T100000Z`) or epoch seconds (`1767225600`)."""
    text = text.strip()
    if not text:
        return None
    if _EPOCH.fullmatch(text):
        return Decimal(text)
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
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_ip_address(text: str) -> IPAddress | None:
    """A single IPv4 or IPv6 address."""
    try:
        return ipaddress.ip_address(text.strip())
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
