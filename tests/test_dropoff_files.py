"""Dropoff file helpers: collection, keys, duplicate destinations, miniSEED and StationXML
validation (invalid files are reported with the reason and never uploaded)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _dropoff_support import MIB, Recorder, dropoff_bucket, make_client
from _moto import MotoS3

from earthscope_sdk_async import (
    ConfigError,
    DuplicateDestinationError,
    FileValidationError,
    UploadCandidate,
    build_key,
    collect_and_validate_files,
    collect_files,
    validate_one,
)
from earthscope_sdk_async.testing import FakeEarthScope

STATIONXML = """<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2">
  <Source>test</Source>
  <Created>2024-01-01T00:00:00Z</Created>
  <Network code="XX">
    <Station code="TEST">
      <Latitude>40.0</Latitude>
      <Longitude>-105.0</Longitude>
      <Elevation>1600.0</Elevation>
      <Site><Name>Test site</Name></Site>
    </Station>
  </Network>
</FDSNStationXML>
"""


def miniseed(samples: int = 500) -> bytes:
    import pymseed

    record = pymseed.MS3Record(reclen=512, encoding=pymseed.DataEncoding.INT32)
    record.sourceid = "FDSN:XX_TEST__B_H_Z"
    record.samprate = 40.0
    record.set_starttime_str("2024-01-01T00:00:00Z")
    return b"".join(record.generate(list(range(samples)), "i"))


def test_build_key_prefix_and_exact(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    f = tmp_path / "d" / "sub" / "a.mseed"
    f.write_bytes(b"x")
    assert build_key(f, tmp_path / "d", "up/") == "up/sub/a.mseed"
    assert build_key(f, f, "up/") == "up/a.mseed"
    assert build_key(f, f, "exact/name.mseed") == "exact/name.mseed"


def test_collect_files_recursive_and_missing(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a").write_bytes(b"1")
    (tmp_path / "d" / "sub" / "b").write_bytes(b"2")
    flat = list(collect_files(tmp_path / "d", "p/"))
    deep = list(collect_files(str(tmp_path / "d"), "p/", recursive=True))
    missing = list(collect_files([tmp_path / "nope"], "p/"))
    assert [c.key for c in flat] == ["p/a"]
    assert sorted(c.key for c in deep) == ["p/a", "p/sub/b"]
    assert not missing[0].ok and isinstance(missing[0].error, FileValidationError)
    assert "does not exist" in str(missing[0].error)


def test_duplicate_destinations_are_refused(tmp_path: Path) -> None:
    for d in ("one", "two"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "same.mseed").write_bytes(b"x")
    found = list(collect_files([tmp_path / "one", tmp_path / "two", tmp_path / "one"], "p/"))
    assert [c.ok for c in found] == [True, False]  # the same file twice is listed once
    assert isinstance(found[1].error, DuplicateDestinationError)
    assert "p/same.mseed" in str(found[1].error) and str(tmp_path / "one") in str(found[1].error)


def test_miniseed_validation(tmp_path: Path) -> None:
    good, bad, corrupt, empty = (tmp_path / n for n in ("good", "bad", "corrupt", "empty"))
    data = miniseed()
    good.write_bytes(data)
    bad.write_bytes(b"this is not miniSEED " * 40)
    broken = bytearray(data)
    broken[600:700] = os.urandom(100)
    corrupt.write_bytes(bytes(broken))
    empty.write_bytes(b"")
    results = {p.name: validate_one((p, p.name), "miniseed") for p in (good, bad, corrupt, empty)}
    assert results["good"].ok
    assert "No miniSEED detected" in str(results["bad"].error)
    assert "CRC is invalid" in str(results["corrupt"].error)
    assert "is empty" in str(results["empty"].error)
    assert all(isinstance(r.error, FileValidationError) for n, r in results.items() if n != "good")


def test_stationxml_validation(tmp_path: Path) -> None:
    good, invalid, malformed = (tmp_path / f"{n}.xml" for n in ("good", "invalid", "malformed"))
    good.write_text(STATIONXML)
    invalid.write_text(STATIONXML.replace("<Latitude>40.0</Latitude>", ""))
    malformed.write_text(STATIONXML[:200])
    assert validate_one((good, "g"), "stationxml").ok
    missing_latitude = validate_one((invalid, "i"), "stationxml").error
    assert isinstance(missing_latitude, FileValidationError)
    assert "not valid FDSN StationXML 1.2" in str(missing_latitude)
    assert "Latitude" in str(missing_latitude)
    assert not validate_one((malformed, "m"), "stationxml").ok


def test_unknown_category_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be one of miniseed, assembled, stationxml"):
        validate_one((tmp_path / "x", "x"), "seismograms")


async def test_invalid_files_are_skipped_never_uploaded(
    fake_earthscope: FakeEarthScope,
    moto_s3: MotoS3,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.mseed").write_bytes(miniseed())
    (src / "bad.mseed").write_bytes(b"garbage" * 100)
    candidates = list(collect_and_validate_files(src, "day1/", "miniseed"))
    assert {c.key: c.ok for c in candidates} == {"day1/bad.mseed": False, "day1/good.mseed": True}
    recorder = Recorder()
    async with make_client(fake_earthscope, moto_s3, bucket, tmp_path / "state") as client:
        recorder.attach(client)
        results = await client.dropoff.put_objects(objects=candidates, category="miniseed")
        listed = await client.dropoff.list_all_objects(category="miniseed")
    assert [r.key.rsplit("/", 1)[-1] for r in results] == ["good.mseed"]
    assert [o.path for o in listed] == ["day1/good.mseed"]
    assert all("bad.mseed" not in str(r.url) for r in recorder.requests)
    assert "skipping" in caplog.text and "bad.mseed" in caplog.text


async def test_duplicate_keys_in_one_batch_are_refused_before_any_upload(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    recorder = Recorder()
    async with make_client(fake_earthscope, moto_s3, bucket, tmp_path / "state") as client:
        recorder.attach(client)
        with pytest.raises(DuplicateDestinationError, match="same key 'k'"):
            await client.dropoff.put_objects(
                objects=[(b"a" * MIB, "k"), UploadCandidate(tmp_path / "x", "k")],
                category="assembled",
            )
    assert recorder.requests == []
