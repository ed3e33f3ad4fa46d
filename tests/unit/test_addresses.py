"""Which addresses the SSRF guard accepts: table tests and properties of the pure functions."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookwire.core.addresses import (
    INVALID_LITERAL,
    NON_CANONICAL_LITERAL,
    IPAddress,
    Network,
    embedded_ipv4,
    literal_host_reason,
    parse_ip_literal,
    refusal_reason,
)

LOOPBACK_V4 = (ip_network("127.0.0.0/8"),)


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("100.127.255.255", "shared (CGNAT)"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "this-network"),
        ("255.255.255.255", "broadcast"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("198.19.255.255", "benchmarking"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("192.0.0.9", "protocol-assignments"),
        ("192.88.99.1", "6to4-relay"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("100::1", "discard-only"),
        ("2001:2::1", "benchmarking"),
        ("2001:10::1", "orchid"),
        ("2001:1::1", "protocol-assignments"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"),
        ("5f00::1", "segment-routing"),
        ("64:ff9b:1:1::1", "NAT64 local-use"),
        ("4000::1", "reserved"),
        ("1::1", "reserved"),
        # IPv6 forms are judged by the IPv4 address they carry.
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:0:10.0.0.1", "private"),
        ("::127.0.0.1", "loopback"),
        ("::0.0.0.2", "this-network"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("64:ff9b:1::7f00:1", "loopback"),
        ("2002:7f00:1::1", "loopback"),
        ("2002:c0a8:101:5::1", "private"),
    ],
)
def test_refused_categories(address: str, category: str) -> None:
    assert refusal_reason(ip_address(address)) == category


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.215.14",
        "100.63.255.255",  # just below CGNAT
        "100.128.0.0",  # just above CGNAT
        "172.15.255.255",
        "172.32.0.0",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal_reason(ip_address(address)) is None


def test_allow_list_overrides_the_category() -> None:
    allow: tuple[Network, ...] = (ip_network("10.0.0.0/8"), ip_network("fd00::/8"))

    assert refusal_reason(ip_address("10.9.8.7"), allow) is None
    assert refusal_reason(ip_address("fd00::5"), allow) is None
    assert refusal_reason(ip_address("11.0.0.1"), allow) is None  # public anyway
    assert refusal_reason(ip_address("192.168.0.1"), allow) == "private"
    assert refusal_reason(ip_address("fc00::5"), allow) == "unique-local"


def test_ipv4_loopback_allowed_does_not_allow_ipv6_loopback() -> None:
    assert refusal_reason(ip_address("::1"), LOOPBACK_V4) == "loopback"


def test_teredo_is_allowed_only_by_its_ipv6_network() -> None:
    # The client address is 127.0.0.1 XOR 0xffffffff; Teredo is not decoded.
    teredo = ip_address("2001:0:102:304::80ff:fffe")

    assert refusal_reason(teredo, LOOPBACK_V4) == "teredo"
    assert refusal_reason(teredo, (ip_network("2001::/32"),)) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", ip_address("127.0.0.1")),
        ("::1", ip_address("::1")),
        ("[::1]", ip_address("::1")),
        ("fe80::1%eth0", ip_address("fe80::1")),
        ("::ffff:7f00:1", ip_address("::ffff:127.0.0.1")),
        ("example.com", None),
        ("localhost", None),
        ("2130706433", None),
        ("0x7f000001", None),
        ("0177.0.0.1", None),
        ("127.1", None),
        ("127.0.0.1.", None),
        ("", None),
    ],
)
def test_parse_ip_literal(host: str, expected: IPAddress | None) -> None:
    parsed = parse_ip_literal(host)

    assert parsed == expected
    if isinstance(parsed, IPv6Address):
        assert parsed.scope_id is None


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("example.com", None),
        ("localhost", None),
        ("0x.example", None),
        ("8.8.8.8", None),
        ("127.0.0.1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2130706433", NON_CANONICAL_LITERAL),
        ("0x7f000001", NON_CANONICAL_LITERAL),
        ("0X7F000001", NON_CANONICAL_LITERAL),
        ("0177.0.0.1", NON_CANONICAL_LITERAL),
        ("127.1", NON_CANONICAL_LITERAL),
        ("127.0.0.1.", NON_CANONICAL_LITERAL),
        ("foo.0x7f", NON_CANONICAL_LITERAL),
        ("\u0661\u0662\u0667.0.0.1", NON_CANONICAL_LITERAL),  # Arabic-Indic digits
        ("0x08080808", NON_CANONICAL_LITERAL),  # public, but parsers disagree on such spellings
        ("::ffff:127.000.0.1", INVALID_LITERAL),
        ("not:an:address", INVALID_LITERAL),
    ],
)
def test_literal_host_reason(host: str, reason: str | None) -> None:
    assert literal_host_reason(host) == reason


def test_non_canonical_literals_are_refused_even_when_allowed() -> None:
    assert literal_host_reason("127.1", LOOPBACK_V4) == NON_CANONICAL_LITERAL
    assert literal_host_reason("127.0.0.1", LOOPBACK_V4) is None


# --- properties -------------------------------------------------------------------------------

ipv4s = st.ip_addresses(v=4).map(lambda address: IPv4Address(int(address)))
bits = st.integers(min_value=0, max_value=2**80 - 1)


def _v6(value: int) -> IPv6Address:
    return IPv6Address(value)


def embedded_forms(address: IPv4Address, low_bits: int) -> list[IPv6Address]:
    """Every IPv6 spelling that reaches ``address``; ``low_bits`` fills 6to4's free bits."""
    v4 = int(address)
    forms = [
        _v6(0xFFFF << 32 | v4),  # IPv4-mapped
        _v6(0xFFFF << 48 | v4),  # IPv4-translated
        _v6(0x64_FF9B << 96 | v4),  # NAT64 well-known prefix
        _v6((0x64_FF9B << 16 | 1) << 80 | v4),  # NAT64 local-use, /96 layout
        _v6(0x2002 << 112 | v4 << 80 | low_bits),  # 6to4
    ]
    if v4 > 1:  # ::0.0.0.0 and ::0.0.0.1 are the unspecified and loopback addresses
        forms.append(_v6(v4))  # IPv4-compatible
    return forms


@given(ipv4s, bits)
def test_every_embedded_form_gets_the_ipv4_verdict(address: IPv4Address, low_bits: int) -> None:
    verdict = refusal_reason(address)

    for form in embedded_forms(address, low_bits):
        assert embedded_ipv4(form) == address
        assert refusal_reason(form) == verdict


@given(st.integers(min_value=0, max_value=2**24 - 1), bits)
def test_allowing_ipv4_loopback_allows_it_in_every_form(host_bits: int, low_bits: int) -> None:
    address = IPv4Address(127 << 24 | host_bits)

    assert refusal_reason(address) == "loopback"
    for form in embedded_forms(address, low_bits):
        assert refusal_reason(form) == "loopback"
        assert refusal_reason(form, LOOPBACK_V4) is None


ALWAYS_REFUSED = [
    ip_network("2001::/32"),  # Teredo, whatever it embeds
    ip_network("127.0.0.0/8"),
    ip_network("::1/128"),
    ip_network("10.0.0.0/8"),
    ip_network("100.64.0.0/10"),
    ip_network("fc00::/7"),
    ip_network("fe80::/10"),
    ip_network("169.254.0.0/16"),
    ip_network("ff00::/8"),
    ip_network("224.0.0.0/4"),
    ip_network("2001:db8::/32"),
    ip_network("3fff::/20"),
    ip_network("192.0.2.0/24"),
    ip_network("198.51.100.0/24"),
    ip_network("203.0.113.0/24"),
    ip_network("240.0.0.0/4"),
    ip_network("4000::/2"),
    ip_network("0.0.0.0/32"),
    ip_network("::/128"),
]


@st.composite
def addresses_in(draw: st.DrawFn, networks: list[Network]) -> IPAddress:
    network = draw(st.sampled_from(networks))
    offset = draw(st.integers(min_value=0, max_value=network.num_addresses - 1))
    return network[offset]


@given(addresses_in(ALWAYS_REFUSED))
def test_special_purpose_ranges_are_always_refused(address: IPAddress) -> None:
    assert refusal_reason(address) is not None


@given(ipv4s)
def test_ipv4_refuses_at_least_what_python_calls_non_global(address: IPv4Address) -> None:
    if not address.is_global:
        assert refusal_reason(address) is not None


@given(st.ip_addresses(v=6).map(lambda address: IPv6Address(int(address))))
def test_ipv6_refuses_at_least_what_python_calls_non_global(address: IPv6Address) -> None:
    # Embedded forms are judged by their IPv4 address instead (::ffff:8.8.8.8 is public).
    if embedded_ipv4(address) is None and not address.is_global:
        assert refusal_reason(address) is not None


def legacy_spellings(address: IPv4Address) -> list[str]:
    """Spellings that ``inet_aton`` (and so ``getaddrinfo``) reads as ``address``; none canonical."""
    a, b, c, d = address.packed
    value = int(address)
    return [
        str(value),  # one decimal number
        hex(value),  # one hexadecimal number
        f"0{value:o}",  # one octal number
        ".".join(f"0{octet:o}" for octet in (a, b, c, d)),  # octal octets
        ".".join(hex(octet) for octet in (a, b, c, d)),  # hexadecimal octets
        f"{a}.{b << 16 | c << 8 | d}",  # short form a.b
        f"{a}.{b}.{c << 8 | d}",  # short form a.b.c
        f"{address}.",  # a trailing dot
    ]


@given(ipv4s)
def test_every_legacy_spelling_of_an_ipv4_address_is_refused(address: IPv4Address) -> None:
    everything: tuple[Network, ...] = (ip_network("0.0.0.0/0"),)

    for host in legacy_spellings(address):
        assert socket.inet_aton(host.rstrip(".")) == address.packed  # it does mean this address
        assert literal_host_reason(host) == NON_CANONICAL_LITERAL
        # Parsers disagree on such spellings, so no allow-list lets them through.
        assert literal_host_reason(host, everything) == NON_CANONICAL_LITERAL
