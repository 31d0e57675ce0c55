"""Who is asking: the one function that decides a request's client address.

The address is the TCP peer's, unless the peer is one of the configured trusted proxies
(setting `trusted_proxies`: addresses or networks, comma-separated, parsed by
radio/config.py `parse_networks`); then it is the
right-most `X-Forwarded-For` entry that is not itself a trusted proxy. A header from
anyone else is ignored, so a client cannot pick its own address. IPv4-mapped IPv6
addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports) count as their IPv4 one.

`network_of` gives the block an address belongs to for rate limits: its /24 (IPv4) or
/64 (IPv6), since one host or ISP customer commonly holds a whole such block.
"""

from __future__ import annotations

import ipaddress

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = ipaddress.IPv4Address("0.0.0.0")   # a peer without an IP address (a Unix socket)


def parse_address(text: str | None) -> Address | None:
    """An IP address with IPv4-mapped IPv6 turned into IPv4; None if `text` is not one."""
    try:
        addr = ipaddress.ip_address((text or "").strip().strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _trusted(addr: Address, proxies: tuple[Network, ...]) -> bool:
    return any(addr.version == net.version and addr in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple[Network, ...]) -> Address:
    """The client of a request whose TCP peer is `peer`, given its X-Forwarded-For header."""
    addr = parse_address(peer) or UNKNOWN
    if not proxies or not forwarded_for or not _trusted(addr, proxies):
        return addr
    for hop in reversed(forwarded_for.split(",")):
        hop_addr = parse_address(hop)
        if hop_addr is None:       # garbage from beyond our proxies: stop at the last good hop
            return addr
        addr = hop_addr
        if not _trusted(addr, proxies):
            return addr
    return addr


def of_request(request, proxies: tuple[Network, ...]) -> Address:
    """client_address for an aiohttp request."""
    return client_address(request.remote, request.headers.get("X-Forwarded-For"), proxies)


def network_of(addr: Address) -> Network:
    """The /24 (IPv4) or /64 (IPv6) that `addr` is in."""
    return ipaddress.ip_network(f"{addr}/{24 if addr.version == 4 else 64}", strict=False)
