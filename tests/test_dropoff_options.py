"""Dropoff options, part sizes and state files (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthscope_sdk_async import ConfigError, DropoffOptions, PartSizeError
from earthscope_sdk_async._dropoff._options import MAX_PART_SIZE, MIN_PART_SIZE, choose_part_size
from earthscope_sdk_async._dropoff._state import UploadState, state_path

MIB = 1024 * 1024


def test_part_size_is_raised_to_fit_10000_parts() -> None:
    assert choose_part_size(100 * MIB, 10 * MIB) == 10 * MIB
    assert choose_part_size(None, 10 * MIB) == 10 * MIB
    raised = choose_part_size(200_000 * MIB, 10 * MIB)
    assert raised == 20 * MIB and raised * 10_000 >= 200_000 * MIB


def test_too_large_for_s3_is_a_part_size_error() -> None:
    with pytest.raises(PartSizeError, match="split the file") as caught:
        choose_part_size(MAX_PART_SIZE * 10_000 + 1, 10 * MIB)
    assert caught.value.required_part_size == MAX_PART_SIZE + 1
    assert isinstance(caught.value, ValueError)


def test_options_from_env_and_checks(tmp_path: Path) -> None:
    env = {
        "ES_DROPOFF__BUCKET": "b",
        "ES_DROPOFF__PART_SIZE": str(6 * MIB),
        "ES_DROPOFF__PART_CONCURRENCY": "3",
        "ES_DROPOFF__STATE_DIR": str(tmp_path),
        "ES_DROPOFF__ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    options = DropoffOptions.from_env(env, object_concurrency=2)
    assert (options.bucket, options.part_size, options.part_concurrency) == ("b", 6 * MIB, 3)
    assert options.object_concurrency == 2 and options.state_dir == tmp_path
    assert options.endpoint.bucket_url("b") == "http://127.0.0.1:9000/b/"
    with pytest.raises(ConfigError, match="ES_DROPOFF__PART_CONCURRENCY must be a whole number"):
        DropoffOptions.from_env({"ES_DROPOFF__PART_CONCURRENCY": "many"})
    with pytest.raises(ConfigError, match="between 5242880"):
        DropoffOptions(part_size=MIN_PART_SIZE - 1)
    with pytest.raises(ConfigError, match="part_concurrency must be"):
        DropoffOptions(part_concurrency=0)


def test_state_file_round_trip_and_names(tmp_path: Path) -> None:
    path = state_path(tmp_path / "dropoff", "bucket", "miniseed/dXNlcg/day/a.mseed")
    assert path.name == "bucket__miniseed__dXNlcg__day__a.mseed.json"
    state = UploadState(path, "upload-1", 11, 5, {"path": "/x", "size": 11}, {1: ('"e"', "c")})
    state.save()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = UploadState.load(path)
    assert (again.upload_id, again.parts, again.source) == (
        "upload-1",
        {1: ('"e"', "c")},
        state.source,
    )
    assert again.matches(total_bytes=11, part_size=5, source={"path": "/x", "size": 11})
    assert not again.matches(total_bytes=11, part_size=6, source={"path": "/x", "size": 11})
    path.write_text("{not json")
    assert UploadState.load(path).upload_id is None  # unreadable: start afresh
    long = state_path(tmp_path, "b", "k/" * 200)
    assert len(long.name.encode()) <= 200
    assert state_path(tmp_path, "b", "../../etc").parent == tmp_path


def test_state_file_names_never_shared(tmp_path: Path) -> None:
    # once "/" becomes "__", these keys would all be "b__a__b.json" (or "b__a_b.json")
    keys = ["a/b", "a__b", "a/_/b", "a\\b", "a_b", "a..b", "a_.b", "a/./b", "a/b/", "a//b"]
    keys += ["a_/b", "a/_b", "a___b", "_a/b", "/_a/b", "a/b_", "a/b__"]
    names = {state_path(tmp_path, "b", key).name for key in keys}
    assert len(names) == len(keys)
    assert state_path(tmp_path, "b", "a/b").name == "b__a__b.json"  # 1.9.3's name, kept
    assert all(state_path(tmp_path, "b", key).parent == tmp_path for key in keys)
    assert state_path(tmp_path, "b_", "x").name != state_path(tmp_path, "b", "_x").name
