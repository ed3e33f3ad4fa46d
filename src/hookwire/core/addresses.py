"""Which IP addresses hookwire may connect to: the pure half of the SSRF guard.

The threat
----------
Webhook URLs are registered by customers, so they are untrusted. Without a guard, a customer
can make the sender issue requests on their behalf to places only the sender can reach
(server-side request forgery): the cloud metadata service at ``169.254.169.254`` (which hands
out credentials), admin ports on ``127.0.0.1``, databases and dashboards on private networks.
Checking the URL when an endpoint is created is not enough: a name can answer a public address
when checked and a loopback one a second later when the sender connects (DNS rebinding), and
one address has many spellings (``2130706433``, ``0x7f000001``, ``::ffff:127.0.0.1``,
``64:ff9b::7f00:1``...).

The approach
------------
By default hookwire connects only to globally routable unicast addresses. The decision is made
here, in pure code, on the *resolved* address; :mod:`hookwire.delivery.guard` applies it at
connect time and makes the connection go to exactly the vetted addresses.

The tables below follow the IANA IPv4 and IPv6 Special-Purpose Address Registries, plus the
multicast and reserved blocks that are not in them. They are spelled out instead of relying on
:attr:`ipaddress.IPv4Address.is_global` because that property is not a security control: it
calls ``224.0.0.1`` (multicast) global, it judges ``64:ff9b::7f00:1`` (NAT64),
``2002:7f00:1::1`` (6to4) and ``::ffff:0:7f00:1`` (IPv4-translated), all of which reach
127.0.0.1, as global, and its tables changed between patch releases (CVE-2024-4032). An explicit
table is stable, reviewable and names a category that is safe to show to a customer.

Where this is deliberately stricter than IANA's "globally reachable" column: the IETF protocol
assignment blocks ``192.0.0.0/24`` and ``2001::/23`` are refused whole, although a few anycast
entries inside them (PCP, TURN, AMT...) are reachable. They host protocol infrastructure, never
a customer's webhook receiver, so refusing them costs nothing.

IPv6 forms that carry an IPv4 address are judged by that IPv4 address, because that is where
the packets end up (dual-stack sockets, SIIT and NAT64 translators, 6to4 relays):

* IPv4-mapped ``::ffff:0:0/96`` and IPv4-translated ``::ffff:0:0:0/96``: the last 32 bits;
* IPv4-compatible ``::/96`` (deprecated, RFC 4291 2.5.5.1): the last 32 bits, except ``::``
  and ``::1``, which are the unspecified and loopback addresses;
* NAT64 ``64:ff9b::/96`` (RFC 6052): the last 32 bits;
* NAT64 local-use ``64:ff9b:1::/48`` (RFC 8215): the operator picks the prefix length, so the
  position of the IPv4 address is unknown. Only the ``64:ff9b:1::/96`` layout (zero bits 48-95)
  is unambiguous; it is judged by its last 32 bits, and the rest of the /48 is refused;
* 6to4 ``2002::/16`` (RFC 3056): bits 16-48.

Teredo ``2001::/32`` (RFC 4380) is refused outright, not judged by its embedded addresses: a
Teredo relay talks both to the embedded server address and to the obfuscated client address,
and the protocol is obsolete, so no real receiver is lost.

An allow-list (``--allow-network 127.0.0.0/8`` for local development) overrides every category:
an address inside an allowed network is accepted, and so is an IPv6 form whose embedded IPv4
address is inside one. A Teredo address is accepted only when the IPv6 address itself is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from string import hexdigits

from hookwire.core.settings import Network

__all__ = [
    "INVALID_LITERAL",
    "NON_CANONICAL_LITERAL",
    "IPAddress",
    "Network",
    "embedded_ipv4",
    "literal_host_reason",
    "parse_ip_literal",
    "refusal_reason",
]

IPAddress = IPv4Address | IPv6Address

#: Reason for a host that looks like an IPv4 literal but is not a canonical dotted quad
#: (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``). Parsers disagree on what such
#: spellings mean, so they are never connected to, whatever the allow-list says.
NON_CANONICAL_LITERAL = "non-canonical IP"

#: Reason for a host with a colon (so treated as an IPv6 literal by aiohttp) that does not parse.
INVALID_LITERAL = "invalid IP"

# First match wins, so a more specific network comes before the one containing it.
_IPV4_CATEGORIES: tuple[tuple[IPv4Network, str], ...] = (
    (IPv4Network("0.0.0.0/32"), "unspecified"),  # RFC 1122; Linux connects it to the local host
    (IPv4Network("0.0.0.0/8"), "this-network"),  # RFC 791
    (IPv4Network("10.0.0.0/8"), "private"),  # RFC 1918
    (IPv4Network("100.64.0.0/10"), "shared (CGNAT)"),  # RFC 6598
    (IPv4Network("127.0.0.0/8"), "loopback"),  # RFC 1122
    (IPv4Network("169.254.0.0/16"), "link-local"),  # RFC 3927; cloud metadata lives here
    (IPv4Network("172.16.0.0/12"), "private"),  # RFC 1918
    (IPv4Network("192.0.0.0/24"), "protocol-assignments"),  # RFC 6890 (DS-Lite, NAT64 discovery...)
    (IPv4Network("192.0.2.0/24"), "documentation"),  # RFC 5737 TEST-NET-1
    (IPv4Network("192.88.99.0/24"), "6to4-relay"),  # RFC 7526: deprecated relay anycast
    (IPv4Network("192.168.0.0/16"), "private"),  # RFC 1918
    (IPv4Network("198.18.0.0/15"), "benchmarking"),  # RFC 2544
    (IPv4Network("198.51.100.0/24"), "documentation"),  # RFC 5737 TEST-NET-2
    (IPv4Network("203.0.113.0/24"), "documentation"),  # RFC 5737 TEST-NET-3
    (IPv4Network("224.0.0.0/4"), "multicast"),  # RFC 5771
    (IPv4Network("255.255.255.255/32"), "broadcast"),  # RFC 919
    (IPv4Network("240.0.0.0/4"), "reserved"),  # RFC 1112
)

# Consulted after the IPv4-embedding forms have been handled (see embedded_ipv4).
_IPV6_CATEGORIES: tuple[tuple[IPv6Network, str], ...] = (
    (IPv6Network("::/128"), "unspecified"),  # RFC 4291
    (IPv6Network("::1/128"), "loopback"),  # RFC 4291
    (IPv6Network("64:ff9b:1::/48"), "NAT64 local-use"),  # RFC 8215, layouts other than /96
    (IPv6Network("100::/64"), "discard-only"),  # RFC 6666
    (IPv6Network("2001::/32"), "teredo"),  # RFC 4380, refused outright (see module docstring)
    (IPv6Network("2001:2::/48"), "benchmarking"),  # RFC 5180
    (IPv6Network("2001:10::/28"), "orchid"),  # RFC 4843, deprecated
    (IPv6Network("2001::/23"), "protocol-assignments"),  # RFC 2928
    (IPv6Network("2001:db8::/32"), "documentation"),  # RFC 3849
    (IPv6Network("3fff::/20"), "documentation"),  # RFC 9637
    (IPv6Network("5f00::/16"), "segment-routing"),  # RFC 9602 SRv6 SIDs
    (IPv6Network("fc00::/7"), "unique-local"),  # RFC 4193
    (IPv6Network("fe80::/10"), "link-local"),  # RFC 4291
    (IPv6Network("fec0::/10"), "site-local"),  # RFC 3879, deprecated
    (IPv6Network("ff00::/8"), "multicast"),  # RFC 4291
)

# RFC 4291 2.4: global unicast addresses are allocated from 2000::/3 only; all other space is
# reserved or unassigned, so nothing outside it is a legitimate webhook destination.
_IPV6_GLOBAL_UNICAST = IPv6Network("2000::/3")

# ::/96 is the deprecated IPv4-compatible block, but its first two addresses are :: and ::1.
_NOT_IPV4_COMPATIBLE = IPv6Network("::/127")

# Each IPv6 form that carries an IPv4 address, with how far to shift to reach it.
_IPV4_EMBEDDINGS: tuple[tuple[IPv6Network, int], ...] = (
    (IPv6Network("::ffff:0:0/96"), 0),  # IPv4-mapped, RFC 4291
    (IPv6Network("::ffff:0:0:0/96"), 0),  # IPv4-translated, RFC 2765
    (IPv6Network("::/96"), 0),  # IPv4-compatible, RFC 4291 (deprecated)
    (IPv6Network("64:ff9b::/96"), 0),  # NAT64 well-known prefix, RFC 6052
    (IPv6Network("64:ff9b:1::/96"), 0),  # NAT64 local-use, RFC 8215, /96 layout only
    (IPv6Network("2002::/16"), 80),  # 6to4, RFC 3056: bits 16-48
)


def refusal_reason(address: IPAddress, allow: Sequence[Network] = ()) -> str | None:
    """Say why hookwire must not connect to ``address``, if it must not.

    Args:
        address: a resolved or literal address.
        allow: networks the operator allows although they are not publicly routable.

    Returns:
        ``None`` when the address may be connected to, else a short category such as
        ``"loopback"`` or ``"link-local"``, safe to show to the customer who owns the URL.
    """
    if _in_any(address, allow):
        return None
    if isinstance(address, IPv4Address):
        return _category(address, _IPV4_CATEGORIES)
    embedded = embedded_ipv4(address)
    if embedded is not None:
        return refusal_reason(embedded, allow)
    return _ipv6_category(address)


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """Return the IPv4 address an IPv6 address carries, for the forms that reach it.

    Covers IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64 (well-known and the /96
    layout of local-use) and 6to4 addresses. Teredo is not decoded (it is refused outright).

    Args:
        address: any IPv6 address.

    Returns:
        The embedded IPv4 address, or ``None`` when ``address`` is not such a form.
    """
    if address in _NOT_IPV4_COMPATIBLE:
        return None
    for network, shift in _IPV4_EMBEDDINGS:
        if address in network:
            return IPv4Address((int(address) >> shift) & 0xFFFF_FFFF)
    return None


def parse_ip_literal(host: str) -> IPAddress | None:
    """Return the address a URL host names literally, or ``None`` for anything else.

    Only canonical spellings parse: dotted-quad IPv4 without leading zeros, and IPv6 (as
    yarl and aiohttp give it, without brackets; brackets are tolerated). An IPv6 zone
    (``fe80::1%eth0``) is dropped, since it does not change which address is meant.

    Args:
        host: the host part of a URL.

    Returns:
        The address, or ``None`` when ``host`` is not a canonical IP literal.
    """
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.scope_id is not None:
        return IPv6Address(int(address))
    return address


def literal_host_reason(host: str, allow: Sequence[Network] = ()) -> str | None:
    """Judge a URL host that is, or looks like, an IP literal.

    HTTP clients connect to IP literals without resolving them, so they must be judged
    before the request. Names are left to the resolver: this returns ``None`` for them.

    Args:
        host: the host part of a URL.
        allow: networks the operator allows although they are not publicly routable.

    Returns:
        ``None`` for names and allowed literals; the category of a refused literal;
        :data:`NON_CANONICAL_LITERAL` or :data:`INVALID_LITERAL` for spellings that look
        like IP literals but are not canonical ones.
    """
    address = parse_ip_literal(host)
    if address is not None:
        return refusal_reason(address, allow)
    if ":" in host:
        # aiohttp treats any host with a colon as an IPv6 literal and hands it to the socket
        # layer unresolved, so one that does not parse must not go anywhere.
        return INVALID_LITERAL
    if _looks_like_ipv4(host):
        return NON_CANONICAL_LITERAL
    return None


def _looks_like_ipv4(host: str) -> bool:
    """Tell whether ``host`` would be read as an IPv4 address by some parser.

    Two rules are combined: aiohttp's (all digits and dots, any Unicode digit) and the WHATWG
    URL Standard's "ends in a number" (the last label is decimal or ``0x`` hexadecimal), which
    matches what ``inet_aton`` and so ``getaddrinfo`` accept (``0x7f000001``, ``0177.0.0.1``).
    """
    if host.replace(".", "").isdigit():
        return True
    labels = host.split(".")
    if len(labels) > 1 and not labels[-1]:
        labels.pop()  # a trailing dot does not change the name
    last = labels[-1].lower()
    if last.isdigit():
        return True
    return last.startswith("0x") and all(char in hexdigits for char in last[2:])


def _in_any(address: IPAddress, networks: Sequence[Network]) -> bool:
    # Membership across versions is simply False, so mixed allow-lists need no filtering.
    return any(address in network for network in networks)


def _category(address: IPAddress, table: Sequence[tuple[Network, str]]) -> str | None:
    for network, category in table:
        if address in network:
            return category
    return None


def _ipv6_category(address: IPv6Address) -> str | None:
    category = _category(address, _IPV6_CATEGORIES)
    if category is None and address not in _IPV6_GLOBAL_UNICAST:
        return "reserved"
    return category
