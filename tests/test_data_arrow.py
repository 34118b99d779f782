"""The merge of decoded responses: late-built string and constant columns (unit level)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyarrow as pa
import pytest

from earthscope_sdk_async._data._arrow import merge_pieces, observation_piece

SCHEMA_RAW = pa.schema(
    [("time", pa.int64()), ("sys", pa.uint8()), ("sat", pa.uint8()), ("obs", pa.uint16()),
     ("snr", pa.float32())]
)  # fmt: skip


def raw(times: list[int], sys: list[int | None], obs: list[int]) -> pa.Table:
    sats = [10 + i for i in range(len(times))]
    snr = [float(t) for t in times]
    return pa.table([times, sys, sats, obs, snr], schema=SCHEMA_RAW)


def rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


@pytest.mark.parametrize(
    ("names", "edids"),
    [
        (["P041", "P042"], ["e-1", "e-2"]),  # one byte length: the vectorised path
        (["P041", "LONGER"], ["e-1", None]),  # lengths differ / a null: the general path
    ],
)
def test_merge_interleaves_rows_and_builds_their_constant_columns(
    names: list[str], edids: list[str | None]
) -> None:
    first = raw([0, 0, 1000, 1000], [1, 2, 1, None], [0x4C31, 0x4331, 0x4C31, 0x4332])
    second = raw([0, 1000, 2000], [1, 9, 1], [0x4C32, 0x4C31, 0x4C31])
    pieces = [
        observation_piece(
            table, rank, {"edid": edids[rank]},
            {"igs": names[rank], "roll": timedelta(minutes=rank + 1)},
        )
        for rank, table in ((1, second), (0, first))
    ]  # fmt: skip
    schema = pieces[0].final().schema
    merged = pa.concat_tables(merge_pieces(pieces, schema))
    assert merged.schema.equals(schema)
    assert merged.column_names == [
        "timestamp", "satellite", "obs_code", "snr", "edid", "system", "igs", "roll"
    ]  # fmt: skip
    got = [
        (r["timestamp"].timestamp(), r["igs"], r["edid"], r["system"], r["obs_code"],
         r["roll"]) for r in rows(merged)
    ]  # fmt: skip
    p, q = names
    one, two = timedelta(minutes=1), timedelta(minutes=2)
    assert got == [
        (0.0, p, edids[0], "G", "L1", one),
        (0.0, p, edids[0], "R", "C1", one),
        (0.0, q, edids[1], "G", "L2", two),
        (1.0, p, edids[0], "", "C2", one),
        (1.0, p, edids[0], "G", "L1", one),
        (1.0, q, edids[1], "", "L1", two),
        (2.0, q, edids[1], "G", "L1", two),
    ]
    assert pieces == []  # handed over: the bodies can be freed
