"""The headers a download reads (``_Head`` in ``_download/_file.py``) are decoded exactly as
httpx decodes them, whichever bytes a server sends: ASCII, UTF-8 or Latin-1 values,
repeated headers (joined with ", "), names in any case. Downloads read them from the
transport's raw headers, with no ``httpx.Headers`` made for a successful answer."""

from __future__ import annotations

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from earthscope_sdk_async._download._file import _Head

NAMES = st.sampled_from(
    [
        b"ETag",
        b"etag",
        b"Accept-Ranges",
        b"Content-Length",
        b"content-range",
        b"Date",
        b"Content-Encoding",
        b"CONTENT-ENCODING",
    ]
)
VALUES = st.one_of(
    st.binary(max_size=12).filter(lambda v: b"\r" not in v and b"\n" not in v),
    st.sampled_from([b'"abc"', b"bytes", b"16384", "caf\u00e9".encode(), b"\xe9t\xe9", b" gzip "]),
)


@settings(max_examples=800, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(NAMES, VALUES), max_size=8))
def test_head_reads_what_httpx_reads(raw: list[tuple[bytes, bytes]]) -> None:
    head = _Head(raw)
    headers = httpx.Headers(raw)
    assert head.etag == headers.get("etag")
    assert head.length == headers.get("content-length")
    assert head.content_range == headers.get("content-range", "")
    assert head.coding == headers.get("content-encoding", "identity")
    assert head.ranges == (headers.get("accept-ranges", "").lower() == "bytes")


def test_latin1_and_utf8_values() -> None:
    latin = [(b"ETag", "\u00e9t\u00e9".encode("latin-1")), (b"X", b"\xff")]
    utf8 = [(b"ETag", "\u00e9t\u00e9".encode()), (b"X", b"ok")]
    assert _Head(latin).etag == httpx.Headers(latin).get("etag") == "\u00e9t\u00e9"
    assert _Head(utf8).etag == httpx.Headers(utf8).get("etag") == "\u00e9t\u00e9"
