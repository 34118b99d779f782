"""FileTokenStore: format, permissions and atomic writes (C34, C54, C55, C56)."""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import anyio
import pytest

from earthscope_sdk_async import ConfigError, Tokens, TokenStoreError
from earthscope_sdk_async._stores import FileTokenStore

ACCESS = "SENTINEL-ACCESS-TOKEN-7f3a"
REFRESH = "SENTINEL-REFRESH-TOKEN-91bc"
ID = "SENTINEL-ID-TOKEN-55d0"

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")


def _tokens(access: str = ACCESS) -> Tokens:
    return Tokens(
        access_token=access,
        refresh_token=REFRESH,
        id_token=ID,
        scope="openid offline_access",
        expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _assert_no_secret(exc: BaseException) -> None:
    for secret in (ACCESS, REFRESH, ID):
        assert secret not in str(exc)
        assert secret not in repr(exc)


async def test_missing_file_loads_none(tmp_path: Path) -> None:
    assert await FileTokenStore(tmp_path / "nope" / "tokens.json").load() is None
    assert not (tmp_path / "nope").exists()  # load never creates anything


async def test_round_trip_and_delete(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    await store.save(_tokens())
    assert await store.load() == _tokens()
    await store.save(_tokens("second-access"))
    loaded = await store.load()
    assert loaded is not None
    assert loaded.access_token == "second-access"
    await store.delete()
    assert await store.load() is None
    await store.delete()  # idempotent
    assert not store.path.exists()


async def test_path_accepts_str_and_expands_user(tmp_path: Path) -> None:
    store = FileTokenStore("~/es/tokens.json")
    await store.save(_tokens())
    assert (Path(os.environ["HOME"]) / "es" / "tokens.json").exists()
    assert ACCESS not in repr(store)


@posix_only
async def test_c55_new_file_is_0600_in_new_0700_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "tokens.json"
    old_umask = os.umask(0o022)
    try:
        await FileTokenStore(path).save(_tokens())
    finally:
        os.umask(old_umask)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert _mode(path.parent.parent) == 0o700


@posix_only
async def test_c55_old_0644_file_becomes_0600(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(_tokens("old").to_json())
    path.chmod(0o644)
    await FileTokenStore(path).save(_tokens())
    assert _mode(path) == 0o600
    assert await FileTokenStore(path).load() == _tokens()


@posix_only
async def test_existing_shared_directory_is_left_alone_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o755)
    with caplog.at_level(logging.WARNING):
        await FileTokenStore(directory / "tokens.json").save(_tokens())
    assert _mode(directory) == 0o755
    assert "accessible to group or others" in caplog.text
    assert ACCESS not in caplog.text


async def test_c56_failed_replace_leaves_original_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dir" / "tokens.json"
    store = FileTokenStore(path)
    await store.save(_tokens("original"))
    before = path.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(TokenStoreError, match="could not save") as info:
        await store.save(_tokens())
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    _assert_no_secret(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["tokens.json"]


async def test_c56_temp_file_created_exclusively_0600_in_same_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy_open(path: str, flags: int, mode: int = 0o777, **kw: object) -> int:
        calls.append((os.fspath(path), flags, mode))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", spy_open)
    path = tmp_path / "tokens.json"
    await FileTokenStore(path).save(_tokens())
    writes = [c for c in calls if c[1] & os.O_CREAT]
    assert len(writes) == 1
    temp, flags, mode = writes[0]
    assert Path(temp).parent == tmp_path
    assert flags & os.O_EXCL
    assert flags & os.O_WRONLY
    assert mode == 0o600


async def test_c56_fsync_file_and_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[bool] = []
    real_fsync = os.fsync

    def spy_fsync(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy_fsync)
    await FileTokenStore(tmp_path / "tokens.json").save(_tokens())
    assert synced[0] is False  # the data, before the rename
    if os.name != "nt":
        assert synced[-1] is True  # then the directory entry


async def test_json_shape_matches_earthscope_sdk_1x(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    await FileTokenStore(path).save(Tokens(access_token=ACCESS, refresh_token=REFRESH))
    data = json.loads(path.read_text())
    assert data["access_token"] == ACCESS
    assert data["refresh_token"] == REFRESH
    assert "id_token" not in data  # nulls omitted, as 1.x writes them
    assert None not in data.values()
    assert set(data) <= {
        "access_token",
        "id_token",
        "refresh_token",
        "token_type",
        "scope",
        "expires_at",
    }


async def test_file_written_by_1x_loads(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"access_token": ACCESS, "id_token": ID, "refresh_token": REFRESH}))
    tokens = await FileTokenStore(path).load()
    assert tokens == Tokens(access_token=ACCESS, id_token=ID, refresh_token=REFRESH)


CORRUPTED = [
    (b'{"access_token": "SENTINEL-ACCESS-TOKEN-7f3a", ', "not valid JSON"),
    (b'["SENTINEL-ACCESS-TOKEN-7f3a"]', "not a token file"),
    (b'{"refresh_token": "SENTINEL-REFRESH-TOKEN-91bc"}', "access_token"),
    (b'{"access_token": "SENTINEL-ACCESS-TOKEN-7f3a", "expires_at": "soon"}', "expires_at"),
    (b"", "empty"),
    (b"\xff\xfe\x00garbage", "not"),
]


# Parametrized async tests must name anyio_backend explicitly (see the report).
@pytest.mark.parametrize(
    "corrupted", CORRUPTED, ids=["truncated", "array", "no-access", "bad-expiry", "empty", "binary"]
)
async def test_corrupted_file_raises_naming_path_and_is_not_modified(
    tmp_path: Path, corrupted: tuple[bytes, str], anyio_backend: str
) -> None:
    content, problem = corrupted
    path = tmp_path / "tokens.json"
    path.write_bytes(content)
    stamp = path.stat().st_mtime_ns
    with pytest.raises(TokenStoreError, match=problem) as info:
        await FileTokenStore(path).load()
    assert str(path) in str(info.value)
    assert info.value.path == str(path)
    assert "delete it and log in again" in str(info.value)
    _assert_no_secret(info.value)
    assert info.value.__cause__ is None
    assert path.read_bytes() == content
    assert path.stat().st_mtime_ns == stamp


async def test_save_over_a_corrupted_file_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    store = FileTokenStore(path)
    await store.save(_tokens())
    assert await store.load() == _tokens()


async def test_unreadable_path_raises_token_store_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.mkdir()  # a directory where the file should be
    with pytest.raises(TokenStoreError, match="could not read") as info:
        await FileTokenStore(path).load()
    assert info.value.path == str(path)


def _emulate_read_only_for_root(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root ignores directory permissions: make creating and unlinking in it fail as EACCES."""
    if os.geteuid() != 0:
        return
    real_open, real_unlink = os.open, os.unlink

    def guarded(path: object) -> None:
        if Path(os.fspath(path)).parent == directory:  # type: ignore[call-overload]
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[call-overload]

    def fake_open(path: str, flags: int, mode: int = 0o777, **kw: object) -> int:
        if flags & os.O_CREAT:
            guarded(path)
        return real_open(path, flags, mode)

    def fake_unlink(path: str, **kw: object) -> None:
        guarded(path)
        real_unlink(path)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "unlink", fake_unlink)


@posix_only
async def test_read_only_directory_raises_on_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    (directory / "tokens.json").write_text(_tokens("old").to_json())
    directory.chmod(0o500)
    _emulate_read_only_for_root(directory, monkeypatch)
    try:
        store = FileTokenStore(directory / "tokens.json")
        with pytest.raises(TokenStoreError, match="writable") as info:
            await store.save(_tokens())
        assert str(directory / "tokens.json") in str(info.value)
        _assert_no_secret(info.value)
        loaded = await store.load()
        assert loaded is not None
        assert loaded.access_token == "old"
        with pytest.raises(TokenStoreError, match="could not delete"):
            await store.delete()
    finally:
        directory.chmod(0o700)
    assert sorted(p.name for p in directory.iterdir()) == ["tokens.json"]


async def test_on_save_called_after_the_file_is_written(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    seen: list[Tokens | None] = []

    async def hook(tokens: Tokens) -> None:
        seen.append(await FileTokenStore(path).load())

    await FileTokenStore(path, on_save=hook).save(_tokens())
    assert seen == [_tokens()]


async def test_on_save_failure_wrapped_file_still_written(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"

    def hook(tokens: Tokens) -> None:
        raise ValueError(tokens.refresh_token)

    with pytest.raises(TokenStoreError, match="on_save") as info:
        await FileTokenStore(path, on_save=hook).save(_tokens())
    _assert_no_secret(info.value)
    assert info.value.path == str(path)
    assert await FileTokenStore(path).load() == _tokens()


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "30", True])
def test_lock_timeout_is_validated(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ConfigError, match="lock_timeout"):
        FileTokenStore(tmp_path / "t.json", lock_timeout=bad)  # type: ignore[arg-type]


def test_store_reused_across_event_loops_and_backends(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")

    async def first() -> None:
        async with store.lock():
            await store.save(_tokens())

    async def second() -> Tokens | None:
        async with store.lock():
            return await store.load()

    anyio.run(first)
    assert anyio.run(second, backend="trio") == _tokens()
    assert anyio.run(second) == _tokens()
