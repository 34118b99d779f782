"""``plain_url``: the URLs the hot paths use without an httpx parse must be exactly what
``httpx.URL`` (and, for the wire, yarl) makes of them; anything else is left to httpx.

Property tests generate URLs from the fast path's own grammar, and near misses around it,
against the installed httpx and yarl.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from earthscope_sdk_async._urls import _PLAIN, plain_url

yarl = pytest.importorskip("yarl")

pytestmark = pytest.mark.filterwarnings("ignore")

HOSTS = st.one_of(
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4}){3}", fullmatch=True),  # IPv4, or close to it
    st.from_regex(r"[a-z0-9][a-z0-9.\-]{0,20}[a-z0-9]", fullmatch=True),
    st.sampled_from(["localhost", "data.earthscope.org", "127.0.0.1", "1a2a3a4", "0.0.0.0"]),
)
TAILS = st.from_regex(
    r"(:[0-9]{1,6})?(/[A-Za-z0-9%._~!$&'()*+,;=:@/\[\] ?#-]{0,30})?", fullmatch=True
)


def check(url: str) -> None:
    plain = plain_url(url)
    if plain is None:
        return
    parsed = httpx.URL(url)  # never raises for a plain URL
    assert str(parsed) == url
    assert (parsed.scheme, parsed.host, parsed.port) == (plain.scheme, plain.host, plain.port)
    assert parsed.path == httpx.URL(f"http://h{plain.path}").path
    assert str(yarl.URL(url, encoded=True)) == url  # what goes on the wire: unchanged


@settings(max_examples=1000, deadline=None, derandomize=True, database=None)
@given(st.from_regex(_PLAIN, fullmatch=True))
@example("http://127.0.0.1:8080/files/16384/f00001.bin")
@example("https://data.earthscope.org/archive/a%20b.mseed?x=%2F&y=1")
def test_plain_urls_are_httpx_urls_as_written(url: str) -> None:
    check(url)


@settings(max_examples=1000, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(["http", "https", "HTTP", "ftp"]), HOSTS, TAILS)
def test_near_misses_are_plain_only_when_httpx_agrees(scheme: str, host: str, tail: str) -> None:
    url = f"{scheme}://{host}{tail}"
    try:
        check(url)
    except httpx.InvalidURL:
        pytest.fail(f"plain_url accepted {url!r}, which httpx refuses")


@pytest.mark.parametrize(
    "url",
    [
        "http://h:80/x",  # httpx drops the default port
        "https://h:443/x",
        "http://h:08080/x",  # httpx drops the leading zero
        "http://1.2.3.999/x",  # httpx refuses it
        "https://Data.example.org/x",  # httpx lowers the host
        "http://h/p?",  # yarl drops the empty query
        "http://h/p#f",
        "http://h",  # httpx adds the "/"
        "http://h/a b",  # httpx quotes the space
        "http://user:pw@h/x",
        "http://[::1]:8080/x",  # (IPv6: left to httpx)
        "http://h/é",
    ],
)
def test_what_httpx_would_change_is_not_plain(url: str) -> None:
    assert plain_url(url) is None
