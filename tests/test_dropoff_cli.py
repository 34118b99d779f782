"""``earthscope-async dropoff``: upload (validated, with a summary and exit codes), list,
status, summary, --json; run in-process against the fake EarthScope and moto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _dropoff_support import MIB, dropoff_bucket, get_object
from _moto import MotoS3
from test_dropoff_files import miniseed

from earthscope_sdk_async._cli import main
from earthscope_sdk_async.testing import FakeEarthScope


@pytest.fixture
def cli_env(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch
) -> str:
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    tokens_file = Path.home() / ".earthscope" / "default" / "tokens.json"
    tokens_file.parent.mkdir(parents=True, mode=0o700)
    tokens_file.write_text(fake_earthscope.issue_tokens().to_json())
    for name, value in {
        "ES_OAUTH2__DOMAIN": fake_earthscope.url,
        "ES_RESOURCES__API_URL": fake_earthscope.url,
        "ES_DROPOFF__BUCKET": bucket,
        "ES_DROPOFF__ENDPOINT_URL": moto_s3.endpoint,
        "ES_DROPOFF__REGION": moto_s3.region,
    }.items():
        monkeypatch.setenv(name, value)
    return bucket


def test_upload_list_status_summary(
    cli_env: str, moto_s3: MotoS3, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.mseed").write_bytes(miniseed())
    (src / "sub" / "b.mseed").write_bytes(miniseed(900))
    (src / "junk.mseed").write_bytes(b"not miniseed" * 50)

    code = main(
        [
            "dropoff",
            "upload",
            str(src),
            "--category",
            "miniseed",
            "--prefix",
            "day1",
            "--recursive",
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 8
    assert sorted(u["key"].split("/", 2)[2] for u in report["uploaded"]) == [
        "day1/a.mseed",
        "day1/sub/b.mseed",
    ]
    assert [i["key"] for i in report["invalid"]] == ["day1/junk.mseed"]
    assert "No miniSEED detected" in report["invalid"][0]["error"]
    assert "not uploaded" in err and "1 invalid and 0 failed of 3 files" in err
    uploaded = report["uploaded"][0]
    assert get_object(moto_s3, cli_env, uploaded["key"]) == (
        (src / "a.mseed").read_bytes()
        if uploaded["key"].endswith("a.mseed")
        else (src / "sub" / "b.mseed").read_bytes()
    )

    assert main(["dropoff", "list", "--category", "miniseed", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [o["path"] for o in listed] == ["day1/a.mseed", "day1/sub/b.mseed"]

    assert main(["dropoff", "status", "day1/a.mseed", "--category", "miniseed"]) == 0
    out = capsys.readouterr().out
    assert "received" in out and listed[0]["sha256"] in out

    assert main(["dropoff", "summary", "--category", "miniseed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"received": 2}


def test_clean_upload_exits_0_with_a_table(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "big.bin").write_bytes(b"\x01" * (6 * MIB))
    code = main(
        [
            "dropoff",
            "upload",
            str(tmp_path / "big.bin"),
            "--category",
            "assembled",
            "--part-size",
            "5",
            "--quiet",
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert "Uploaded 1 files" in out and "big.bin" in out


def test_usage_errors(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dropoff", "upload", "x", "--category", "seismograms"]) == 2
    assert main(["dropoff"]) == 2
    assert main(["dropoff", "status", "nothing-here", "--category", "miniseed"]) == 2
    assert "no submission of 'nothing-here'" in capsys.readouterr().err
