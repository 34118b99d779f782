"""Arrow decoding and per-response transforms (imported only when data is fetched).

Each response covers one session / stream / (system, reference point) and one time
window, so metadata is added as constant columns (no joins) and the rows are put in order
with a 64-bit key: ``(time - window start) << 37 | rank << 27 | within``, where ``rank``
orders the datasources of a merge and ``within`` orders rows of one datasource at one epoch
(system, satellite, observation code). Each response is time-ordered, so a stable sort of
the concatenated keys (timsort) merges runs instead of sorting from scratch.

String columns are materialised late: an observations piece holds ``obs_code`` and
``system`` as their packed integer codes and its metadata (``igs``, ``edid``, ...) as one
value per piece (a :class:`Layout`), so the merge gathers narrow fixed-width columns only;
the strings are built once, vectorised, from the merged codes and the merged rows' ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Piece", "decode_stream", "empty_like", "merge_pieces"]

WINDOW_MS = 1 << 25
"""A merge window: ~9.3 hours of milliseconds (the key has 27 time bits; smaller windows
keep the merge's temporary memory small)."""
MAX_RANK = 1 << 10
_SYSTEM_LETTERS = pa.array(["", "G", "R", "S", "E", "C", "J", "I"] + [""] * 248, pa.string())
_LETTER_ORDER = np.zeros(256, dtype=np.uint32)
_LETTER_BYTES = np.zeros(256, dtype=np.uint8)
_LETTER_LENGTHS = np.zeros(256, dtype=np.int32)
for _i, _letter in enumerate(["", "G", "R", "S", "E", "C", "J", "I"]):
    _LETTER_ORDER[_i] = sorted(["", "C", "E", "G", "I", "J", "R", "S"]).index(_letter)
    if _letter:
        _LETTER_BYTES[_i], _LETTER_LENGTHS[_i] = ord(_letter), 1


@dataclass(frozen=True)
class Layout:
    """How a piece's table becomes the final one: the final column order, the columns held
    as codes (name -> decoder) and the names of the constant (per-piece) columns."""

    names: tuple[str, ...]
    decoders: dict[str, Callable[[pa.ChunkedArray], pa.Array]]
    constants: tuple[str, ...]


@dataclass
class Piece:
    """One decoded response: its table, its epochs (int64 ms) and its in-epoch order.

    With a ``layout``, ``table`` holds coded columns and ``constants`` the per-piece values
    that :func:`finish` turns into the final columns after the merge.
    """

    table: pa.Table
    times: np.ndarray[Any, Any]
    within: np.ndarray[Any, Any] | None
    rank: int
    layout: Layout | None = None
    constants: dict[str, Any] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        """Bytes held by the table."""
        return int(self.table.nbytes)

    def final(self) -> pa.Table:
        """This piece alone as a final table."""
        return finish([(self, 0, self.table.num_rows)], self.table, None)


def decode_stream(body: pa.Buffer) -> pa.Table:
    """An Arrow IPC stream as a table (zero-copy over ``body``)."""
    with pa.ipc.open_stream(body) as reader:
        return reader.read_all()


def int_column(table: pa.Table, name: str) -> np.ndarray[Any, Any]:
    """Column ``name`` as a numpy int64 array (nulls as 0)."""
    column = table.column(name)
    if pa.types.is_timestamp(column.type):
        column = pc.cast(column, pa.timestamp("ms", tz=column.type.tz)).cast(pa.int64())
    return np.asarray(column.fill_null(0).to_numpy(), dtype=np.int64)


def system_letters(column: pa.ChunkedArray) -> pa.Array:
    """System ids (``sys & 0xFF``, nulls as 0) as their letters (``""`` for unknown ids)."""
    ids = np.asarray(column.fill_null(0).to_numpy(), dtype=np.int64) & 0xFF
    lengths = _LETTER_LENGTHS[ids]
    offsets = np.zeros(len(ids) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = _LETTER_BYTES[ids]
    if not bool(lengths.all()):
        data = data[lengths.astype(bool)]
    return pa.StringArray.from_buffers(len(ids), pa.py_buffer(offsets), pa.py_buffer(data))


def obs_codes(column: pa.ChunkedArray) -> pa.Array:
    """The packed 2-char observation codes (first char in the high byte) as strings."""
    values = np.asarray(column.fill_null(0).to_numpy(), dtype=np.int64) & 0xFFFF
    data = np.empty(2 * len(values), dtype=np.uint8)
    data[0::2] = values >> 8
    data[1::2] = values & 0xFF
    offsets = np.arange(0, 2 * len(values) + 1, 2, dtype=np.int32)
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets), pa.py_buffer(data))


def constant(value: Any, count: int) -> pa.Array:
    """``count`` copies of ``value`` (strings, durations as ``duration[us]``)."""
    if isinstance(value, timedelta):
        return pa.repeat(pa.scalar(value, pa.duration("us")), count)
    if value is None:
        return pa.nulls(count, pa.string())
    return pa.repeat(pa.scalar(value, pa.string()), count)


def with_constants(table: pa.Table, columns: dict[str, Any]) -> pa.Table:
    """``table`` with one constant column per item of ``columns``."""
    for name, value in columns.items():
        table = table.append_column(name, constant(value, table.num_rows))
    return table


def sort_piece_by_time(piece: Piece) -> Piece:
    """``piece`` in time order (a no-op when it already is, the usual case)."""
    times = piece.times
    if len(times) < 2 or bool(np.all(times[1:] >= times[:-1])):
        return piece
    order = np.argsort(times, kind="stable")
    within = piece.within[order] if piece.within is not None else None
    return replace(
        piece, table=piece.table.take(pa.array(order)), times=times[order], within=within
    )


def _window_slices(pieces: Sequence[Piece], lo: int, hi: int) -> list[tuple[Piece, int, int]]:
    found = []
    for piece in pieces:
        a = int(np.searchsorted(piece.times, lo, side="left"))
        b = int(np.searchsorted(piece.times, hi, side="left"))
        if b > a:
            found.append((piece, a, b))
    return found


def _merge_window(parts: list[tuple[Piece, int, int]], lo: int) -> pa.Table:
    keys = np.empty(sum(b - a for _, a, b in parts), dtype=np.uint64)
    at = 0
    for piece, a, b in parts:  # filled in place: one allocation for every key
        key = keys[at : at + b - a]
        key[:] = piece.times[a:b]
        key -= np.uint64(lo)
        key <<= np.uint64(37)
        key |= np.uint64(piece.rank << 27)
        if piece.within is not None:
            key |= piece.within[a:b]
        at += b - a
    table = pa.concat_tables([p.table.slice(a, b - a) for p, a, b in parts])
    if len(parts) == 1 and bool(np.all(keys[1:] >= keys[:-1])):
        return finish(parts, table, None)
    order = np.argsort(keys, kind="stable")
    ranks = None
    if parts[0][0].layout is not None and len(parts) > 1:
        ranks = ((keys[order] >> np.uint64(27)) & np.uint64(MAX_RANK - 1)).astype(np.int64)
    del keys
    taken = pc.take(table, pa.array(order), memory_pool=data_pool())
    return finish(parts, taken, ranks, order)


def finish(
    parts: Sequence[tuple[Piece, int, int]],
    table: pa.Table,
    ranks: np.ndarray[Any, Any] | None,
    order: np.ndarray[Any, Any] | None = None,
) -> pa.Table:
    """The final table of ``parts`` merged into ``table`` (rows reordered by ``order``, each
    row from the piece of rank ``ranks[i]``): codes decoded, constant columns built."""
    layout = parts[0][0].layout
    if layout is None:
        return table
    columns = []
    for name in layout.names:
        if name in layout.decoders:
            columns.append(layout.decoders[name](table.column(name)))
        elif name in layout.constants:
            columns.append(_constant_column(parts, name, table.num_rows, ranks, order))
        else:
            columns.append(table.column(name))
    return pa.table(columns, names=list(layout.names))


def _constant_column(
    parts: Sequence[tuple[Piece, int, int]],
    name: str,
    count: int,
    ranks: np.ndarray[Any, Any] | None,
    order: np.ndarray[Any, Any] | None,
) -> pa.Array | pa.ChunkedArray:
    values = [p.constants[name] for p, _, _ in parts]
    first = values[0]
    if all(type(v) is type(first) and v == first for v in values):
        return constant(first, count)
    by_rank = {p.rank: p.constants[name] for p, _, _ in parts}
    if ranks is not None and len(by_rank) == len(parts):
        fast = _gathered(by_rank, ranks)
        if fast is not None:
            return fast
    pieces = pa.chunked_array(
        [constant(v, b - a) for v, (_, a, b) in zip(values, parts, strict=True)]
    )
    if order is None:
        return pieces
    return pc.take(pieces, pa.array(order), memory_pool=data_pool())


def _gathered(by_rank: dict[int, Any], ranks: np.ndarray[Any, Any]) -> pa.Array | None:
    """``by_rank[r]`` for each ``r`` in ``ranks``, built with numpy, for durations and
    strings of one byte length (else ``None``: the caller takes the general path)."""
    values = list(by_rank.values())
    slots = np.zeros(MAX_RANK, dtype=np.int64)
    slots[list(by_rank)] = np.arange(len(values))
    index = slots[ranks]
    if all(isinstance(v, timedelta) for v in values):
        micros = np.array([v // timedelta(microseconds=1) for v in values], dtype=np.int64)
        return pa.array(micros[index], pa.duration("us"))
    if not all(isinstance(v, str) for v in values):
        return None
    encoded = [v.encode() for v in values]
    width = len(encoded[0])
    if any(len(e) != width for e in encoded) or width * len(ranks) >= 2**31:
        return None
    table = np.frombuffer(b"".join(encoded), dtype=np.uint8).reshape(len(values), width)
    offsets = np.arange(0, width * (len(ranks) + 1), width, dtype=np.int32)
    data = table[index].reshape(-1)
    return pa.StringArray.from_buffers(len(ranks), pa.py_buffer(offsets), pa.py_buffer(data))


def merge_pieces(pieces: list[Piece], schema: pa.Schema) -> list[pa.Table]:
    """The rows of ``pieces`` in (time, rank, within) order, as tables (one per window).

    ``pieces`` is emptied (so the bodies can be freed as soon as the merge is done).
    """
    pieces[:] = [sort_piece_by_time(p) for p in pieces if p.table.num_rows]
    if not pieces:
        return []
    try:
        if max(p.rank for p in pieces) >= MAX_RANK:
            return [_sort_generic(pieces, schema)]
        return _merge_sorted(pieces)
    finally:
        pieces.clear()


def release_memory() -> None:
    """Give the memory of freed response bodies back to the OS (the pool keeps it else)."""
    pa.default_memory_pool().release_unused()


def data_pool() -> pa.MemoryPool:
    """The pool for bodies and merged tables (see :func:`._engine.body_pool`)."""
    from ._engine import body_pool

    pool: pa.MemoryPool = body_pool()
    return pool


def _merge_sorted(pieces: list[Piece]) -> list[pa.Table]:
    start = min(int(p.times[0]) for p in pieces)
    stop = max(int(p.times[-1]) for p in pieces) + 1
    out = []
    for lo in range(start, stop, WINDOW_MS):
        parts = _window_slices(pieces, lo, lo + WINDOW_MS)
        if parts:
            out.append(_merge_window(parts, lo))
    return out


def _sort_generic(pieces: Sequence[Piece], schema: pa.Schema) -> pa.Table:
    times = np.concatenate([p.times for p in pieces])
    ranks = np.concatenate([np.full(len(p.times), p.rank, dtype=np.int64) for p in pieces])
    within = np.concatenate(
        [p.within if p.within is not None else np.zeros(len(p.times), np.uint32) for p in pieces]
    )
    order = np.lexsort((within, ranks, times))
    table = pa.concat_tables([p.table for p in pieces]).take(pa.array(order))
    parts = [(p, 0, p.table.num_rows) for p in pieces]
    return finish(parts, table, None, order)


def empty_like(schema: pa.Schema) -> pa.Table:
    """An empty table with ``schema``."""
    return schema.empty_table()


def observation_piece(
    raw: pa.Table, rank: int, prefix: dict[str, Any], suffix: dict[str, Any]
) -> Piece:
    """An observations response, renamed and typed as 1.9.3 does, plus metadata columns.

    ``prefix`` columns (``edid``) come before ``system``, ``suffix`` ones after it. The
    piece holds ``obs_code`` and ``system`` as codes and the metadata as constants; its
    :class:`Layout` makes the final columns after the merge.
    """
    times = int_column(raw, "time")
    sys_ids = np.asarray(raw.column("sys").fill_null(0).to_numpy(), dtype=np.int64) & 0xFF
    sats = int_column(raw, "sat") & 0xFF
    obs = int_column(raw, "obs") & 0xFFFF
    within = _LETTER_ORDER[sys_ids]
    within <<= np.uint32(24)
    within |= sats.astype(np.uint32) << np.uint32(16)
    within |= obs.astype(np.uint32)
    columns: dict[str, Any] = {}
    for name in raw.column_names:
        column = raw.column(name)
        if name == "time":
            columns["timestamp"] = column.cast(pa.timestamp("ms", tz="UTC"))
        elif name == "sat":
            columns["satellite"] = column
        elif name == "obs":
            columns["obs_code"] = column
        elif name != "sys":
            columns[name] = column
    names = (*columns, *prefix, "system", *suffix)
    columns["system"] = pa.array(sys_ids.astype(np.uint8))
    layout = _layout(names, tuple(prefix) + tuple(suffix))
    return Piece(pa.table(columns), times, within, rank, layout, {**prefix, **suffix})


_LAYOUTS: dict[tuple[tuple[str, ...], tuple[str, ...]], Layout] = {}


def _layout(names: tuple[str, ...], constants: tuple[str, ...]) -> Layout:
    """One shared :class:`Layout` per column list (pieces of one plan share it)."""
    key = (names, constants)
    found = _LAYOUTS.get(key)
    if found is None:
        decoders: dict[str, Callable[[pa.ChunkedArray], pa.Array]] = {
            "obs_code": obs_codes,
            "system": system_letters,
        }
        found = _LAYOUTS.setdefault(key, Layout(names, decoders, constants))
    return found


_POSITION_NAMES = {
    "sigEE": "sig_ee",
    "sigNN": "sig_nn",
    "sigUU": "sig_uu",
    "qChannel": "q_channel",
    "ingestLatency": "ingest_latency",
    "processingDelay": "processing_delay",
}


def position_piece(raw: pa.Table, rank: int, meta: dict[str, Any]) -> Piece:
    """An instantaneous-positions response, renamed and typed as 1.9.3 does, plus metadata."""
    times = int_column(raw, "time")
    columns: dict[str, Any] = {}
    for name in raw.column_names:
        column = raw.column(name)
        if name == "time":
            columns["timestamp"] = column.cast(pa.timestamp("ms", tz="UTC"))
        elif name in ("ingestLatency", "processingDelay"):
            columns[_POSITION_NAMES[name]] = column.cast(pa.duration("ms"))
        else:
            columns[_POSITION_NAMES.get(name, name)] = column
    return Piece(with_constants(pa.table(columns), meta), times, None, rank)


def ephemeris_piece(raw: pa.Table, rank: int, label: str | None, labelled: bool) -> Piece:
    """An ephemeris response as the service sent it, plus ``label`` with a reference point."""
    times = int_column(raw, "timestamp") if "timestamp" in raw.column_names else None
    if times is None:
        times = np.zeros(raw.num_rows, dtype=np.int64)
    within = None
    if "satellite" in raw.column_names:
        within = (int_column(raw, "satellite") & ((1 << 27) - 1)).astype(np.uint32)
    table = raw.append_column("label", constant(label, raw.num_rows)) if labelled else raw
    return Piece(table, times, within, rank)


Transform = Callable[[pa.Table], Piece]
