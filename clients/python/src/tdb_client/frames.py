"""Conversions between pandas DataFrames and TDB's columnar point chunks.

Kept free of any network code so it can be read (and tested) on its own. Times on the wire
are int64 microseconds since the Unix epoch, UTC; in DataFrames they are tz-aware UTC
``datetime64[us, UTC]`` values. Null values travel as ``nulls`` flags and become NaN.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from google.protobuf import json_format

from tdb_client.gen.tdb.v1 import types_pb2

# Columns a long-form upload frame may have; anything else is refused, not silently dropped.
_NAME_COLUMNS = ("series", "name")
_LONG_COLUMNS = {
    "series",
    "name",
    "series_id",
    "labels",
    "valid_time",
    "value",
    "valid_time_end",
    "annotation",
}


@dataclass
class SeriesPoints:
    """The points of one series, as parallel numpy arrays ready to be chunked."""

    ref: types_pb2.SeriesRef
    valid_times: np.ndarray  # int64 µs since epoch
    values: np.ndarray  # float64, NaN = null
    valid_time_ends: np.ndarray | None = None  # int64 µs, 0 = no end
    annotations: list[str] | None = None
    key: str = field(default="")


def to_micros(times: Any, what: str) -> np.ndarray:
    """Tz-aware timestamps → int64 µs since epoch. Naive times are refused: they are ambiguous."""
    idx = pd.DatetimeIndex(times)
    if idx.tz is None:
        raise ValueError(f"{what}: times must be tz-aware (e.g. tz='UTC'); naive times are ambiguous")
    ns = idx.tz_convert("UTC").as_unit("ns").asi8
    if np.any(ns % 1000 != 0):
        raise ValueError(f"{what}: TDB stores microseconds; these times have nanoseconds")
    return ns // 1000


def from_micros(us: np.ndarray) -> pd.DatetimeIndex:
    """int64 µs since epoch → tz-aware UTC DatetimeIndex (microsecond unit, lossless)."""
    return pd.DatetimeIndex(np.asarray(us, dtype="datetime64[us]")).tz_localize("UTC")


def series_key(name: str, labels: Mapping[str, str]) -> str:
    """The server's key for a series in UploadResponse.series_ids: `name{k="v",...}`."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{labels[k]}"' for k in sorted(labels))
    return f"{name}{{{inner}}}"


def frame_to_series(df: pd.DataFrame, labels: Mapping[str, str] | None = None) -> list[SeriesPoints]:
    """Splits an upload frame into per-series point arrays.

    Long form: one row per point with ``valid_time`` and ``value`` and the series named by
    ``series_id``, or ``series``/``name`` (+ an optional ``labels`` column of dicts);
    optional ``valid_time_end`` and ``annotation``. Wide form: a tz-aware DatetimeIndex of
    valid times and one column per series name. ``labels`` are added to every series named
    by name (handy for wide frames).
    """
    common = dict(labels or {})
    if "valid_time" in df.columns and "value" in df.columns:
        return _long_to_series(df, common)
    if isinstance(df.index, pd.DatetimeIndex):
        return _wide_to_series(df, common)
    raise ValueError(
        "upload frame: expected long form (columns valid_time, value and series/name or series_id) "
        "or wide form (a tz-aware DatetimeIndex, one column per series)"
    )


def _wide_to_series(df: pd.DataFrame, common: dict[str, str]) -> list[SeriesPoints]:
    times = to_micros(df.index, "index")
    out = []
    for column in df.columns:
        values = df[column].to_numpy(dtype="float64", na_value=np.nan)
        ref = types_pb2.SeriesRef(name=str(column), labels=common)
        out.append(SeriesPoints(ref, times, values, key=series_key(str(column), common)))
    return out


def _long_to_series(df: pd.DataFrame, common: dict[str, str]) -> list[SeriesPoints]:
    unknown = sorted(set(map(str, df.columns)) - _LONG_COLUMNS)
    if unknown:
        raise ValueError(f"upload frame: unknown columns {unknown}; allowed: {sorted(_LONG_COLUMNS)}")
    name_col = next((c for c in _NAME_COLUMNS if c in df.columns), None)
    if name_col is None and "series_id" not in df.columns:
        raise ValueError("upload frame: name the series with a series/name column or a series_id column")

    times = to_micros(df["valid_time"], "valid_time")
    values = df["value"].to_numpy(dtype="float64", na_value=np.nan)
    ends = to_micros(df["valid_time_end"], "valid_time_end") if "valid_time_end" in df.columns else None
    if ends is not None:
        ends = np.where(df["valid_time_end"].isna().to_numpy(), 0, ends)
    notes = df["annotation"].fillna("").astype(str).tolist() if "annotation" in df.columns else None

    # Group rows by series reference, keeping first-appearance order.
    groups: dict[tuple[Any, ...], list[int]] = {}
    refs: dict[tuple[Any, ...], types_pb2.SeriesRef] = {}
    keys: dict[tuple[Any, ...], str] = {}
    ids = df["series_id"].tolist() if "series_id" in df.columns else [None] * len(df)
    names = df[name_col].tolist() if name_col else [None] * len(df)
    row_labels = df["labels"].tolist() if "labels" in df.columns else [None] * len(df)
    for i, (sid, name, lab) in enumerate(zip(ids, names, row_labels, strict=True)):
        if sid is not None and not (isinstance(sid, float) and np.isnan(sid)) and sid != "":
            k: tuple[Any, ...] = ("id", str(sid))
            if k not in refs:
                refs[k], keys[k] = types_pb2.SeriesRef(series_id=str(sid)), str(sid)
        else:
            merged = {**common, **(lab if isinstance(lab, Mapping) else {})}
            k = ("name", str(name), tuple(sorted(merged.items())))
            if k not in refs:
                refs[k] = types_pb2.SeriesRef(name=str(name), labels=merged)
                keys[k] = series_key(str(name), merged)
        groups.setdefault(k, []).append(i)

    out = []
    for k, rows in groups.items():
        idx = np.asarray(rows, dtype=np.int64)
        out.append(
            SeriesPoints(
                refs[k],
                times[idx],
                values[idx],
                ends[idx] if ends is not None else None,
                [notes[i] for i in rows] if notes is not None else None,
                key=keys[k],
            )
        )
    return out


def chunks_of(points: SeriesPoints, size: int) -> Iterator[types_pb2.PointChunk]:
    """Cuts one series into PointChunks of at most `size` points; NaN becomes a null."""
    n = len(points.valid_times)
    for start in range(0, n, size):
        stop = min(start + size, n)
        values = points.values[start:stop]
        nan = np.isnan(values)
        chunk = types_pb2.PointChunk(
            series=points.ref,
            valid_times=points.valid_times[start:stop].tolist(),
            values=np.where(nan, 0.0, values).tolist(),
        )
        # Only send the optional columns when they carry something.
        if nan.any():
            chunk.nulls.extend(nan.tolist())
        if points.valid_time_ends is not None and points.valid_time_ends[start:stop].any():
            chunk.valid_time_ends.extend(points.valid_time_ends[start:stop].tolist())
        if points.annotations is not None and any(points.annotations[start:stop]):
            chunk.annotations.extend(points.annotations[start:stop])
        yield chunk


# Read-side columns, in frame order, with the PointChunk field each comes from.
_READ_COLUMNS = (
    ("valid_time_end", "valid_time_ends"),
    ("annotation", "annotations"),
    ("tags", "tags"),
    ("metadata", "metadata"),
    ("known_time", "known_times"),
    ("run_id", "run_ids"),
    ("change_time", "change_times"),
    ("changed_by", "changed_by"),
)
_TIME_COLUMNS = {"valid_time_end", "known_time", "change_time"}


def chunks_to_frame(chunks: list[types_pb2.PointChunk], names: Mapping[str, str]) -> pd.DataFrame:
    """Read chunks → long frame: series_id, name, valid_time, value (NaN = null), then the
    optional columns any chunk carried (valid_time_end, annotation, tags as lists of str,
    metadata as dicts, known_time, run_id, change_time, changed_by)."""
    sizes = [len(c.valid_times) for c in chunks]
    total = sum(sizes)
    series_ids = np.repeat(np.array([c.series.series_id for c in chunks], dtype=object), sizes)
    times = np.fromiter((t for c in chunks for t in c.valid_times), dtype=np.int64, count=total)
    values = np.fromiter((v for c in chunks for v in c.values), dtype=np.float64, count=total)
    nulls = (
        np.concatenate([_column(c, "nulls", n, False, bool) for c, n in zip(chunks, sizes, strict=True)])
        if chunks
        else np.zeros(0, bool)
    )
    values[nulls] = np.nan
    data: dict[str, Any] = {
        "series_id": series_ids,
        "name": np.array([names.get(s, "") for s in series_ids], dtype=object),
        "valid_time": from_micros(times),
        "value": values,
    }
    for column, fieldname in _READ_COLUMNS:
        if not any(len(getattr(c, fieldname)) for c in chunks):
            continue
        if column in ("tags", "metadata"):
            data[column] = _objects(chunks, sizes, fieldname)
            continue
        is_time = column in _TIME_COLUMNS
        parts = [
            _column(c, fieldname, n, 0 if is_time else "", np.int64 if is_time else object)
            for c, n in zip(chunks, sizes, strict=True)
        ]
        col = np.concatenate(parts)
        if is_time:
            stamps = from_micros(col)
            data[column] = stamps.where(col != 0, pd.NaT) if column == "valid_time_end" else stamps
        else:
            data[column] = col
    return pd.DataFrame(data)


def _objects(chunks: list[types_pb2.PointChunk], sizes: list[int], fieldname: str) -> np.ndarray:
    """Per-point tags (list of str, [] = none) or metadata (dict, {} = none) as an object column."""
    out: list[Any] = []
    for c, n in zip(chunks, sizes, strict=True):
        items = getattr(c, fieldname)
        if len(items) == 0:
            out.extend([] if fieldname == "tags" else {} for _ in range(n))
        elif fieldname == "tags":
            out.extend(list(t.values) for t in items)
        else:
            out.extend(json_format.MessageToDict(m) for m in items)
    column = np.empty(len(out), dtype=object)
    column[:] = out
    return column


def _column(chunk: types_pb2.PointChunk, fieldname: str, n: int, fill: Any, dtype: Any) -> np.ndarray:
    """One chunk's optional parallel array, or `fill` when the chunk left it empty."""
    values = getattr(chunk, fieldname)
    if len(values) == 0:
        return np.full(n, fill, dtype=dtype)
    return np.array(list(values), dtype=dtype)
