"""Who is asking, for counting: the caller's network, and the mailbox behind an address.

Limits count per network rather than per address (one household or office shares a /24, and
one IPv6 customer gets a /64 to spread over), and per mailbox rather than per spelling of an
address (`bob+1@x` and `bob+2@x` reach the same inbox).
"""

from __future__ import annotations

import ipaddress

UNKNOWN_NETWORK = "-"  # no address was given (a caller that is not the web)
_DOTLESS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}  # dots in the local part are ignored


def network_of(address: str | None) -> str:
    """The /24 of an IPv4 address (also IPv4-mapped IPv6), the /64 of an IPv6 address, else the text."""
    if not address:
        return UNKNOWN_NETWORK
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64] or UNKNOWN_NETWORK
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def mailbox_of(email: str) -> str:
    """The inbox a (normalized) address reaches: `+tag` dropped, and dots where the provider ignores them."""
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    local = local.split("+", 1)[0] or local
    if domain in _DOTLESS:
        domain = _DOTLESS[domain]
        local = local.replace(".", "") or local
    return f"{local}@{domain}"
