"""The address gate: every feed and article fetch may reach public internet addresses only.

Feed and article URLs come from publishers, so a hostile one could point the daemon at the
loopback interface, the private network or a cloud metadata service (server-side request
forgery). The gate checks three times, each time on what is actually used:

- the URL, before anything else (scheme, ambiguous spellings, IP literals);
- every address a host name resolves to (a name with any forbidden address is refused whole);
- the address of every socket just before it connects, on every redirect hop, which also covers
  IP literals (aiohttp skips the resolver for them) and whatever a cache may hold. The address
  checked is the address connected to, so a name that resolves to a public address once and to a
  private one the next time (DNS rebinding) gains nothing.

An operator allow-list (``[fetch] allow_networks``) exempts chosen networks.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 6598 shared address space, used by carrier-grade NAT: not reachable from the internet.
CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
# RFC 6052 / RFC 8215 NAT64 prefixes: the last 32 bits are an IPv4 address the gateway reaches.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# Deprecated IPv4-compatible IPv6 addresses (RFC 4291 §2.5.5.1), ::a.b.c.d.
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

# A host made only of numbers and dots, in decimal, octal or hex (2130706433, 0x7f.1, 0177.0.0.1):
# URL parsers and inet_aton read these as IPv4 addresses, so they are addresses, not names.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
AUTHORITY_END = re.compile("[/?#]")
NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


class AddressRefusedError(OSError):
    """A fetch was refused by the gate; ``reason`` says what and why, for the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """Which addresses fetches may reach: public ones, plus the operator's allowed networks."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, networks: Iterable[str]) -> NetworkPolicy:
        return cls(tuple(ipaddress.ip_network(network, strict=False) for network in networks))


def address_problem(address: str | IPAddress, policy: NetworkPolicy) -> str | None:
    """Why ``address`` may not be fetched from (``"10.0.0.5 is a private address"``), or None."""
    judged = _judge(address, policy)
    if judged is None:
        return None
    subject, kind = judged
    return f"{subject}, {kind}" if " embeds " in subject else f"{subject} is {kind}"


def _judge(address: str | IPAddress, policy: NetworkPolicy) -> tuple[str, str] | None:
    """(what the address is or carries, the forbidden kind it belongs to), or None if allowed."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    if _allowed(ip, policy):
        return None
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if embedded is not None:
        kind = None if _allowed(embedded, policy) else _forbidden_kind(embedded)
        return (f"{ip} embeds {embedded}", kind) if kind else None
    kind = _forbidden_kind(ip)
    return (str(ip), kind) if kind else None


def _allowed(ip: IPAddress, policy: NetworkPolicy) -> bool:
    return any(ip in network for network in policy.allowed if network.version == ip.version)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries and would reach (mapped, 6to4, Teredo, NAT64)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        server, client = ip.teredo
        # Either end being private makes the tunnel a way in; report the worse one.
        return client if _forbidden_kind(client) else server
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _forbidden_kind(ip: IPAddress) -> str | None:
    # The specific kinds first, so the message says what the address is.
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "a carrier-grade NAT (shared) address"
    if isinstance(ip, ipaddress.IPv6Address) and (ip.is_site_local or ip in NAT64_LOCAL):
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def url_problem(url: str, policy: NetworkPolicy) -> str | None:
    """Why ``url`` may not be fetched, judged from its text alone, or None.

    Refuses what is not http(s), authorities that parsers disagree on (a backslash: browsers read
    ``http://a.com\\@127.0.0.1/`` as host a.com, Python as host 127.0.0.1), numeric IPv4
    spellings other than dotted decimal, and IP literals the policy forbids. Host names are
    judged later, on the addresses they resolve to.
    """
    if CONTROL_CHARACTER.search(url):
        return "the URL contains control characters"
    scheme, _, rest = url.partition(":")
    if scheme.lower() not in ("http", "https"):
        return f"only http and https URLs are fetched, not {_clip(url)!r}"
    if not rest.startswith("//"):
        return f"no host in {_clip(url)!r}"
    authority = AUTHORITY_END.split(rest[2:], maxsplit=1)[0]
    if "\\" in authority:
        return f"a backslash in the host part of {_clip(url)!r} is read differently by parsers"
    if " " in authority:
        return f"a space in the host part of {_clip(url)!r}"
    try:
        host = urlsplit(url).hostname or ""
    except ValueError as error:
        return f"malformed URL {_clip(url)!r}: {error}"
    if not host:
        return f"no host in {_clip(url)!r}"
    if "%" in host and ":" not in host:
        return f"a percent-encoded host in {_clip(url)!r}"
    if ":" not in host and (malformed := _malformed_name(host)):
        return f"a malformed host name in {_clip(url)!r}: {malformed}"
    return host_problem(host, policy)


@lru_cache(maxsize=4096)  # feeds and articles come from far fewer hosts than URLs
def _malformed_name(host: str) -> str | None:
    try:
        host.encode("idna")  # an empty label or one over 63 characters names no host
    except UnicodeError as error:
        return str(error.__cause__ or error)
    return None


@lru_cache(maxsize=4096)
def host_problem(host: str, policy: NetworkPolicy) -> str | None:
    """Why ``host`` (a name or an IP literal, without brackets) may not be fetched from."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return address_problem(ip, policy)
    if NUMERIC_HOST.match(host):
        try:
            spelled = ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            return f"{host} is not a valid host"
        # Refused even when public: no honest publisher spells an address this way.
        kind = None if _allowed(spelled, policy) else _forbidden_kind(spelled)
        return f"{host} is an unusual spelling of {spelled}" + (f", {kind}" if kind else "")
    return None


class GuardedResolver(AbstractResolver):
    """Resolves through ``inner`` and refuses a name if any of its addresses is forbidden."""

    def __init__(self, inner: AbstractResolver, policy: NetworkPolicy) -> None:
        self._inner = inner
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            judged = _judge(result["host"], self._policy)
            if judged:
                raise AddressRefusedError(f"{host} resolves to {judged[0]}, {judged[1]}")
        return results

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket_factory(policy: NetworkPolicy) -> Callable[[Any], socket.socket]:
    """A socket factory for aiohttp that refuses to create a socket for a forbidden address.

    aiohttp calls it with the address it is about to connect to, on every connection it opens.
    """

    def create(addr_info: Any) -> socket.socket:
        family, type_, proto, _, address = addr_info
        problem = address_problem(str(address[0]), policy)
        if problem:
            raise AddressRefusedError(problem)
        return socket.socket(family=family, type=type_, proto=proto)

    return create


def refusal_reason(error: BaseException) -> str | None:
    """The gate's reason if ``error`` or anything that caused it is a refusal, else None."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, AddressRefusedError):
            return seen.reason
        os_error = getattr(seen, "os_error", None)
        if isinstance(os_error, AddressRefusedError):
            return os_error.reason
        seen = seen.__cause__ or seen.__context__
    return None


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
