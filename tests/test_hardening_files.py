"""Issue 14, cases 8 and 9: hostile token files fail typed and at once.

Deeply nested JSON is a :class:`TokenStoreError`, not a bare ``RecursionError``; a FIFO (or
any non-regular file) at the token path never blocks ``load()``; links are not followed; a
read-only token directory and a token file owned by another user say what is going on.
"""

from __future__ import annotations

import errno
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest

from earthscope_sdk_async import ApiError, AsyncEarthScopeClient, Tokens, TokenStoreError
from earthscope_sdk_async._files import (
    UnsafeFileError,
    append_fd,
    atomic_write,
    new_exclusive,
    read_regular,
)
from earthscope_sdk_async._stores import FileTokenStore, MemoryTokenStore
from earthscope_sdk_async._stores import _file as file_store
from earthscope_sdk_async.testing import FakeEarthScope

NESTED = b"[" * 200_000 + b"]" * 200_000
POSIX = pytest.mark.skipif(os.name == "nt", reason="POSIX file types and modes")
EXPIRES = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)


def tokens() -> Tokens:
    return Tokens(access_token="a" * 20, refresh_token="r" * 20, expires_at=EXPIRES)


async def test_case8_deeply_nested_token_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_bytes(b'{"access_token": ' + NESTED + b"}")
    with pytest.raises(TokenStoreError, match="nested too deeply"):
        await FileTokenStore(path).load()


@POSIX
async def test_case8_fifo_at_the_token_path_does_not_block(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    os.mkfifo(path)
    with anyio.fail_after(30), pytest.raises(TokenStoreError, match="not a regular file"):
        await FileTokenStore(path).load()


@POSIX
async def test_symlinked_token_file_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(tokens().to_json())
    path = tmp_path / "tokens.json"
    path.symlink_to(elsewhere)
    with pytest.raises(TokenStoreError, match="symbolic link"):
        await FileTokenStore(path).load()


async def test_api_answer_nested_too_deeply_is_an_api_error(
    fake_earthscope: FakeEarthScope,
) -> None:
    fake_earthscope.add_fault("profile", status=200, body=NESTED)
    store = MemoryTokenStore(fake_earthscope.issue_tokens())
    async with AsyncEarthScopeClient(settings=fake_earthscope.settings(), store=store) as client:
        with pytest.raises(ApiError, match="not JSON"):
            await client.user.get_profile()


def root_only() -> None:
    if os.name == "nt" or os.geteuid() != 0:  # type: ignore[attr-defined,unused-ignore]
        pytest.skip("needs root to give a file to another user")


@POSIX
async def test_case9_token_file_of_another_user_is_not_reowned(tmp_path: Path) -> None:
    root_only()
    path = tmp_path / "tokens.json"
    path.write_text(tokens().to_json())
    os.chown(path, 4242, 4242)
    store = FileTokenStore(path)
    assert await store.load() == tokens()  # readable: used, with a warning
    with pytest.raises(TokenStoreError, match="owned by user id 4242"):
        await store.save(tokens().replace(access_token="b" * 20))
    assert os.stat(path).st_uid == 4242
    assert await store.load() == tokens()


@POSIX
async def test_case9_read_only_directory_says_refresh_cannot_be_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "profile"
    directory.mkdir()
    (directory / "tokens.json").write_text(tokens().to_json())
    if os.geteuid() == 0:  # type: ignore[attr-defined,unused-ignore]  # root ignores modes

        def read_only(path: Path, data: bytes) -> None:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

        monkeypatch.setattr(file_store, "atomic_write", read_only)
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        store = FileTokenStore(directory / "tokens.json")
        assert await store.load() == tokens()
        with pytest.raises(TokenStoreError, match="read-only") as info:
            await store.save(tokens())
        assert "cannot be saved" in str(info.value)
    finally:
        directory.chmod(0o700)


@POSIX
def test_file_helper_refuses_links_fifos_and_hard_links(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "a.bin.part"
    link.symlink_to(victim)
    with pytest.raises(UnsafeFileError):
        append_fd(link, create=False)
    with pytest.raises(FileExistsError):
        new_exclusive(link)  # a dangling or live link is never created through
    hard = tmp_path / "b.bin.part"
    os.link(victim, hard)
    with pytest.raises(UnsafeFileError, match="hard links"):
        append_fd(hard, create=False)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeFileError):
        read_regular(fifo)
    atomic_write(link, b"new")  # replaces the link itself, never writes through it
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_bytes() == b"new"


@POSIX
async def test_symlinked_lock_file_is_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    store = FileTokenStore(tmp_path / "tokens.json", lock_timeout=0.2)
    store.lock_path.symlink_to(victim)
    with pytest.raises(TokenStoreError):
        async with store.lock():
            pass
    assert victim.read_text() == "precious"
