"""The address gate's judgement of URLs and addresses (pure functions)."""

from __future__ import annotations

import socket

import pytest

from monitor.fetch.netguard import (
    AddressRefusedError,
    NetworkPolicy,
    address_problem,
    guarded_socket_factory,
    url_problem,
)

PUBLIC = NetworkPolicy()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("10.0.0.5", "10.0.0.5 is a private address"),
        ("172.16.3.4", "is a private address"),
        ("192.168.1.1", "is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address (where cloud metadata"),
        ("100.64.0.1", "100.64.0.1 is a carrier-grade NAT (shared) address"),
        ("224.0.0.1", "is a multicast address"),
        ("0.0.0.0", "is an unspecified address"),
        ("240.0.0.1", "is a reserved address"),
        ("255.255.255.255", "255.255.255.255 is"),
        ("::1", "::1 is a loopback address"),
        ("::", ":: is an unspecified address"),
        ("fe80::1", "is a link-local address"),
        ("fe80::1%eth0", "is a link-local address"),
        ("fc00::1", "is a private address"),
        ("fd12:3456::1", "is a private address"),
        ("fec0::1", "is a private address"),
        ("ff02::1", "is a multicast address"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1 embeds 127.0.0.1, a loopback address"),
        ("::ffff:10.0.0.1", "embeds 10.0.0.1, a private address"),
        ("::127.0.0.1", "embeds 127.0.0.1, a loopback address"),
        ("2002:7f00:1::", "2002:7f00:1:: embeds 127.0.0.1, a loopback address"),
        ("2002:a9fe:a9fe::1", "embeds 169.254.169.254, a link-local address"),
        # Teredo: the client address is stored inverted (RFC 4380); this one is 192.168.0.1.
        ("2001:0:4136:e378:8000:63bf:3f57:fffe", "embeds 192.168.0.1, a private address"),
        ("64:ff9b::7f00:1", "64:ff9b::7f00:1 embeds 127.0.0.1, a loopback address"),
        ("64:ff9b:1::a00:1", "is a private address"),
        ("203.0.113.5", "203.0.113.5 is a private address"),  # documentation range
    ],
)
def test_forbidden_addresses_and_why(address: str, reason: str) -> None:
    problem = address_problem(address, PUBLIC)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "2002:5db8:d70e::1"]
)
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(address, PUBLIC) is None


def test_the_allow_list_exempts_its_networks_and_their_ipv6_forms() -> None:
    policy = NetworkPolicy.of(["10.0.0.0/8", "127.0.0.1/32"])
    assert address_problem("10.1.2.3", policy) is None
    assert address_problem("::ffff:10.1.2.3", policy) is None
    assert address_problem("127.0.0.1", policy) is None
    assert address_problem("127.0.0.2", policy) == "127.0.0.2 is a loopback address"
    assert address_problem("192.168.0.1", policy) == "192.168.0.1 is a private address"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/feed", "only http and https"),
        ("gopher://x", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("http:/example.com/", "no host"),
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://localhost./", None),  # a name: judged on what it resolves to
        ("http://[::1]:8080/", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "embeds 127.0.0.1, a loopback address"),
        ("http://[::ffff:7f00:1]/", "embeds 127.0.0.1"),
        ("http://[2002:7f00:1::]/", "embeds 127.0.0.1"),
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://2130706433/", "2130706433 is an unusual spelling of 127.0.0.1, a loopback"),
        ("http://0x7f.1/", "0x7f.1 is an unusual spelling of 127.0.0.1"),
        ("http://0x7f000001/", "unusual spelling of 127.0.0.1"),
        ("http://0177.0.0.1/", "0177.0.0.1 is an unusual spelling of 127.0.0.1"),
        ("http://127.1/", "127.1 is an unusual spelling of 127.0.0.1"),
        ("http://017700000001/", "unusual spelling of 127.0.0.1"),
        ("http://3232235777/", "unusual spelling of 192.168.1.1, a private address"),
        ("http://1572395042/", "unusual spelling of 93.184.216.34"),  # even when public
        ("http://%31%32%37.0.0.1/", "percent-encoded host"),
        ("http://a.com\\@127.0.0.1/", "a backslash in the host part"),
        ("http://a.com\\.127.0.0.1/", "a backslash in the host part"),
        ("http://user:pw@169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local"),
        ("http://news.example/\r\nHost: x", "control characters"),
        ("http://news.example /a", "a space in the host part"),
        ("http://news.example/a b.html", None),  # sloppy but harmless: the path gets encoded
        ("https://news.example/feed.xml", None),
        ("HTTP://News.Example/feed.xml?q=a\\b", None),  # a backslash after the host is harmless
    ],
)
def test_urls_are_judged_before_any_connection(url: str, reason: str | None) -> None:
    problem = url_problem(url, PUBLIC)
    if reason is None:
        assert problem is None
    else:
        assert problem is not None
        assert reason in problem


def test_the_socket_factory_refuses_forbidden_addresses_before_any_socket_exists() -> None:
    create = guarded_socket_factory(NetworkPolicy.of(["127.0.0.1/32"]))
    with pytest.raises(AddressRefusedError, match=r"127\.0\.0\.2 is a loopback address"):
        create((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", 80)))
    with pytest.raises(AddressRefusedError, match=r"embeds 10\.0\.0\.1"):
        create((socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:10.0.0.1", 80, 0, 0)))
    allowed = create((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))
    allowed.close()
