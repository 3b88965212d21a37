"""DataFrame ↔ chunk conversions, without a server."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tdb_client.frames import chunks_of, chunks_to_frame, frame_to_series, series_key
from tdb_client.gen.tdb.v1 import types_pb2


def test_long_form_groups_rows_by_series_and_labels_in_first_appearance_order() -> None:
    t = pd.Timestamp("2026-01-01", tz="UTC")
    df = pd.DataFrame(
        {
            "name": ["b", "a", "b", "a"],
            "labels": [{"site": "x"}, {}, {"site": "y"}, {}],
            "valid_time": [t, t, t, t + pd.Timedelta("1h")],
            "value": [1.0, 2.0, 3.0, np.nan],
        }
    )
    series = frame_to_series(df, labels={"env": "test"})
    assert [s.key for s in series] == [
        'b{env="test",site="x"}',
        'a{env="test"}',
        'b{env="test",site="y"}',
    ]
    a = series[1]
    assert a.valid_times.tolist() == [1767225600000000, 1767229200000000]
    (chunk,) = chunks_of(a, 10)
    assert list(chunk.values) == [2.0, 0.0] and list(chunk.nulls) == [False, True]


def test_series_id_column_names_series_by_id() -> None:
    df = pd.DataFrame(
        {
            "series_id": ["42", "42"],
            "valid_time": pd.date_range("2026-01-01", periods=2, tz="UTC"),
            "value": 1.0,
        }
    )
    (series,) = frame_to_series(df)
    assert series.ref.series_id == "42" and series.ref.name == ""


def test_chunks_are_cut_at_the_chunk_size_and_skip_empty_optional_columns() -> None:
    idx = pd.date_range("2026-01-01", periods=25, freq="min", tz="UTC")
    (series,) = frame_to_series(pd.DataFrame({"x": np.arange(25.0)}, index=idx))
    chunks = list(chunks_of(series, 10))
    assert [len(c.valid_times) for c in chunks] == [10, 10, 5]
    assert all(len(c.nulls) == 0 and len(c.annotations) == 0 for c in chunks)


def test_refuses_naive_times_nanoseconds_and_unknown_columns() -> None:
    naive = pd.DataFrame({"name": "x", "valid_time": [pd.Timestamp("2026-01-01")], "value": [1.0]})
    with pytest.raises(ValueError, match="tz-aware"):
        frame_to_series(naive)
    nanos = naive.assign(valid_time=[pd.Timestamp("2026-01-01T00:00:00.000000001Z")])
    with pytest.raises(ValueError, match="nanoseconds"):
        frame_to_series(nanos)
    with pytest.raises(ValueError, match="unknown columns"):
        frame_to_series(naive.assign(valid_time=pd.Timestamp("2026-01-01", tz="UTC"), colour="red"))


def test_read_chunks_become_a_frame_with_nulls_as_nan_and_utc_times() -> None:
    chunk = types_pb2.PointChunk(
        series=types_pb2.SeriesRef(series_id="7"),
        valid_times=[0, 1_000_000],
        values=[1.5, 0.0],
        nulls=[False, True],
        known_times=[5, 5],
        run_ids=["r", "r"],
    )
    df = chunks_to_frame([chunk], {"7": "temp"})
    assert list(df.columns) == ["series_id", "name", "valid_time", "value", "known_time", "run_id"]
    assert df["valid_time"].tolist() == [pd.Timestamp(0, tz="UTC"), pd.Timestamp(1, unit="s", tz="UTC")]
    assert df["value"].iloc[0] == 1.5 and np.isnan(df["value"].iloc[1])
    assert str(df["known_time"].dtype) == "datetime64[us, UTC]"


def test_read_chunks_carry_tags_as_lists_and_metadata_as_dicts() -> None:
    with_both = types_pb2.PointChunk(
        series=types_pb2.SeriesRef(series_id="7"), valid_times=[0, 1], values=[1, 2]
    )
    with_both.tags.add(values=["a", "b"])
    with_both.tags.add()
    with_both.metadata.add().update({"source": "model", "version": 2})
    with_both.metadata.add()
    plain = types_pb2.PointChunk(series=types_pb2.SeriesRef(series_id="8"), valid_times=[2], values=[3])
    df = chunks_to_frame([with_both, plain], {"7": "x", "8": "y"})
    assert list(df.columns) == ["series_id", "name", "valid_time", "value", "tags", "metadata"]
    assert df["tags"].tolist() == [["a", "b"], [], []]
    assert df["metadata"].tolist() == [{"source": "model", "version": 2}, {}, {}]


def test_series_key_matches_the_servers_canonical_form() -> None:
    assert series_key("t", {}) == "t"
    assert series_key("t", {"b": "2", "a": "1"}) == 't{a="1",b="2"}'
