"""TdbClient against a live server: round trips through DataFrames and errors as exceptions."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from tdb_client import TdbClient, TdbError

from .conftest import Live

N = 10_000


@pytest.fixture()
def tdb(live: Live):
    with TdbClient(live.url, live.admin_key) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def long_frame(name: str, n: int = N, seed: int = 1) -> pd.DataFrame:
    """n points every 15 minutes with a few nulls (NaN)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(20.0, 5.0, n)
    values[::997] = np.nan
    return pd.DataFrame(
        {
            "series": name,
            "valid_time": pd.date_range("2026-01-01", periods=n, freq="15min", tz="UTC"),
            "value": values,
        }
    )


def points_of(df: pd.DataFrame) -> pd.DataFrame:
    """The comparable part of a frame: valid_time (µs, UTC) and value, in time order."""
    out = df[["valid_time", "value"]].sort_values("valid_time").reset_index(drop=True)
    out["valid_time"] = out["valid_time"].dt.as_unit("us")
    return out


def test_uploads_10000_points_and_reads_them_back_in_latest_and_all_vintages(tdb: TdbClient) -> None:
    name = unique("py_roundtrip")
    series = tdb.create_series(name, {"site": "a"}, unit="degC", kind="forecast")
    assert series.name == name and series.kind == "forecast"
    df = long_frame(name)
    known = pd.Timestamp("2026-01-01T06:00:00.123456Z")

    run = tdb.upload(df, labels={"site": "a"}, known_time=known, workflow_id=name, params={"model": "py"})

    assert run.point_count == N
    assert run.series_ids == {f'{name}{{site="a"}}': series.series_id}

    latest = tdb.read(series_ids=[series.series_id], mode="latest")
    assert len(latest) == N
    pd.testing.assert_frame_equal(points_of(latest), points_of(df))
    assert set(latest["name"]) == {name}
    assert str(latest["valid_time"].dt.tz) == "UTC"

    lean = tdb.read(series_ids=[series.series_id], mode="latest", values_only=True)
    assert list(lean.columns) == ["series_id", "name", "valid_time", "value"]
    pd.testing.assert_frame_equal(points_of(lean), points_of(df))

    vintages = tdb.read(name=name, labels={"site": "a"}, mode="all_vintages")
    pd.testing.assert_frame_equal(points_of(vintages), points_of(df))
    assert set(vintages["run_id"]) == {run.run_id}
    assert set(vintages["known_time"]) == {known}


def test_a_second_forecast_run_is_latest_while_all_vintages_keeps_both(tdb: TdbClient) -> None:
    name = unique("py_vintages")
    first, second = long_frame(name, 500, seed=1), long_frame(name, 500, seed=2)
    k1, k2 = pd.Timestamp("2026-01-01T00:00Z"), pd.Timestamp("2026-01-02T00:00Z")
    r1 = tdb.upload(first, known_time=k1, new_series_kind="forecast")
    r2 = tdb.upload(second, known_time=k2, new_series_kind="forecast")

    latest = tdb.read(name=name)
    pd.testing.assert_frame_equal(points_of(latest), points_of(second))

    vintages = tdb.read(name=name, mode="all_vintages")
    assert len(vintages) == 1000
    by_run = {rid: points_of(g) for rid, g in vintages.groupby("run_id")}
    pd.testing.assert_frame_equal(by_run[r1.run_id], points_of(first))
    pd.testing.assert_frame_equal(by_run[r2.run_id], points_of(second))

    as_of = tdb.read(name=name, mode="as_of", as_of=k1)
    pd.testing.assert_frame_equal(points_of(as_of), points_of(first))


def test_uploads_a_wide_frame_one_column_per_series(tdb: TdbClient) -> None:
    a, b = unique("py_wide_a"), unique("py_wide_b")
    idx = pd.date_range("2026-03-01", periods=48, freq="h", tz="Europe/Berlin")
    wide = pd.DataFrame({a: np.arange(48.0), b: np.arange(48.0) * 2}, index=idx)

    run = tdb.upload(wide, labels={"unit_test": "wide"})

    assert run.point_count == 96
    back = tdb.read(labels={"unit_test": "wide"})
    pivot = back.pivot(index="valid_time", columns="name", values="value")
    expected = wide.tz_convert("UTC")
    expected.index = expected.index.as_unit("us")
    pd.testing.assert_frame_equal(pivot[[a, b]], expected, check_names=False, check_freq=False)


def test_lists_runs_with_their_metadata(tdb: TdbClient) -> None:
    name = unique("py_runs")
    run = tdb.upload(long_frame(name, 10), workflow_id=name, params={"model": "x", "horizon": 24})
    runs = tdb.list_runs(workflow_id=name)
    assert list(runs["run_id"]) == [run.run_id]
    row = runs.iloc[0]
    assert row["point_count"] == 10
    assert row["params"] == {"model": "x", "horizon": 24}
    assert row["known_time"].tzinfo is not None


def test_a_call_without_a_key_raises_unauthenticated(live: Live) -> None:
    with TdbClient(live.url, "") as anonymous, pytest.raises(TdbError) as err:
        anonymous.list_series()
    assert err.value.code == "UNAUTHENTICATED"
    assert "API key required" in err.value.message


def test_a_bad_key_raises_unauthenticated(live: Live) -> None:
    with TdbClient(live.url, "tdbk_not_a_real_key") as bad, pytest.raises(TdbError) as err:
        bad.read(name="anything")
    assert err.value.code == "UNAUTHENTICATED"


def test_a_read_only_key_may_read_but_not_upload(live: Live) -> None:
    if live.read_key is None:
        pytest.skip("no read-only key (TDB_TEST_READ_KEY) for this server")
    with TdbClient(live.url, live.read_key) as reader:
        reader.list_series()
        with pytest.raises(TdbError) as err:
            reader.upload(long_frame(unique("py_denied"), 5))
    assert err.value.code == "PERMISSION_DENIED"


def test_another_tenants_series_is_not_found(tdb: TdbClient, live: Live) -> None:
    if live.other_admin_key is None:
        pytest.skip("no second tenant for this server")
    series = tdb.create_series(unique("py_private"))
    with TdbClient(live.url, live.other_admin_key) as other, pytest.raises(TdbError) as err:
        other.get_series(series.series_id)
    assert err.value.code == "NOT_FOUND"


def test_bad_input_raises_invalid_argument_and_writes_nothing(tdb: TdbClient) -> None:
    name = unique("py_bad")
    df = long_frame(name, 10)
    df.loc[3, "value"] = np.inf
    with pytest.raises(TdbError) as err:
        tdb.upload(df)
    assert err.value.code == "INVALID_ARGUMENT"
    assert tdb.list_series(name=name) == []


def test_naive_times_are_refused_before_any_call(tdb: TdbClient) -> None:
    df = long_frame("never_sent", 3)
    df["valid_time"] = df["valid_time"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="tz-aware"):
        tdb.upload(df)


def test_read_by_many_ids_is_one_call_with_names_from_the_stream(live: Live, tdb: TdbClient) -> None:
    # A key allowed 5 requests a minute reads 30 series by id: one ReadValues, no GetSeries
    # per id (which made reading 70 series trip the default 60/min limit).
    import grpc

    from tdb_client.gen.tdb.v1 import key_admin_service_pb2 as ka
    from tdb_client.gen.tdb.v1 import key_admin_service_pb2_grpc as ka_grpc
    from tdb_client.gen.tdb.v1 import options_pb2

    prefix = unique("many")
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "name": f"{prefix}_{i}",
                    "valid_time": pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC"),
                    "value": [1.0, 2.0, 3.0],
                }
            )
            for i in range(30)
        ]
    )
    run = tdb.upload(frame)
    ids = list(run.series_ids.values())
    with grpc.insecure_channel(live.url.removeprefix("http://")) as channel:
        made = ka_grpc.KeyAdminServiceStub(channel).CreateKey(
            ka.CreateKeyRequest(name="slow", role=options_pb2.ROLE_READ, rate_limit=5),
            metadata=[("x-api-key", live.admin_key)],
        )
    with TdbClient(live.url, made.raw_key) as slow:
        read = slow.read(series_ids=ids)
    assert len(read) == 90
    assert sorted(set(read["name"])) == sorted(f"{prefix}_{i}" for i in range(30))
