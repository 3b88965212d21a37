"""TdbClient: TDB over gRPC (grpcio), with pandas DataFrames in and out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import grpc
import pandas as pd
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from tdb_client.errors import TdbError
from tdb_client.frames import chunks_of, chunks_to_frame, frame_to_series
from tdb_client.gen.tdb.v1 import time_series_service_pb2 as ts
from tdb_client.gen.tdb.v1 import time_series_service_pb2_grpc as ts_grpc
from tdb_client.gen.tdb.v1 import types_pb2

T = TypeVar("T")

_MODES = {
    "latest": types_pb2.READ_MODE_LATEST,
    "as_of": types_pb2.READ_MODE_AS_OF,
    "all_vintages": types_pb2.READ_MODE_ALL_VINTAGES,
    "corrections": types_pb2.READ_MODE_CORRECTIONS,
}
_KINDS = {"actual": types_pb2.SERIES_KIND_ACTUAL, "forecast": types_pb2.SERIES_KIND_FORECAST}

Time = dt.datetime | pd.Timestamp | str


@dataclass(frozen=True)
class Series:
    """A series as the server describes it."""

    series_id: str
    name: str
    labels: dict[str, str]
    unit: str
    description: str
    kind: str  # "actual" or "forecast"
    created_at: pd.Timestamp


@dataclass(frozen=True)
class UploadResult:
    """What an upload stored: the run, its point count, and the ids of the series it wrote,
    keyed like the server's UploadResponse.series_ids (`name` or `name{k="v"}`)."""

    run_id: str
    point_count: int
    series_ids: dict[str, str]


class TdbClient:
    """A TDB client over gRPC.

    ``url`` is ``http://host:port`` (gRPC over cleartext HTTP/2, h2c) or ``https://host:port``
    (TLS with the system's roots). Every call sends ``api_key`` as ``x-api-key``. Failures
    raise :class:`TdbError` with the gRPC code name in ``.code``. Use as a context manager or
    call :meth:`close`.

    >>> with TdbClient("http://127.0.0.1:8080", "tdbk_...") as tdb:
    ...     tdb.upload(df, workflow_id="forecast")
    ...     latest = tdb.read(name="temperature")
    """

    def __init__(self, url: str, api_key: str, *, max_message_bytes: int = 64 * 1024 * 1024) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be http://host:port or https://host:port, got {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = f"{parts.hostname}:{port}"
        options = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ]
        if parts.scheme == "https":
            self._channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(), options)
        else:
            self._channel = grpc.insecure_channel(target, options)
        self._stub = ts_grpc.TimeSeriesServiceStub(self._channel)
        self._metadata = (("x-api-key", api_key),) if api_key else ()

    def close(self) -> None:
        """Closes the channel."""
        self._channel.close()

    def __enter__(self) -> TdbClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- series -------------------------------------------------------------------------

    def create_series(
        self,
        name: str,
        labels: Mapping[str, str] | None = None,
        *,
        unit: str = "",
        description: str = "",
        kind: str = "actual",
    ) -> Series:
        """Creates a series; TdbError ALREADY_EXISTS when name + labels are taken."""
        req = ts.CreateSeriesRequest(
            name=name, labels=dict(labels or {}), unit=unit, description=description, kind=_kind(kind)
        )
        res = self._call(self._stub.CreateSeries, req)
        return _series(res.series)

    def get_series(self, series_id: str) -> Series:
        """One series by id; TdbError NOT_FOUND when the tenant has none such."""
        return _series(self._call(self._stub.GetSeries, ts.GetSeriesRequest(series_id=series_id)).series)

    def list_series(
        self, name: str = "", labels: Mapping[str, str] | None = None, unit: str = ""
    ) -> list[Series]:
        """Every series matching the filters (label subset match), following all pages."""
        out: list[Series] = []
        token = ""
        while True:
            req = ts.ListSeriesRequest(
                name=name, labels=dict(labels or {}), unit=unit, page_size=1000, page_token=token
            )
            res = self._call(self._stub.ListSeries, req)
            out.extend(_series(s) for s in res.series)
            token = res.next_page_token
            if not token:
                return out

    # --- values -------------------------------------------------------------------------

    def upload(
        self,
        df: pd.DataFrame,
        *,
        known_time: Time | None = None,
        workflow_id: str = "",
        params: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
        create_missing_series: bool = True,
        new_series_kind: str = "actual",
        chunk_size: int = 10_000,
    ) -> UploadResult:
        """Uploads a DataFrame as ONE run (all or nothing), streamed in columnar chunks.

        Long form: rows of ``valid_time``, ``value`` and ``series``/``name`` (+ ``labels``
        dicts) or ``series_id``; optional ``valid_time_end``, ``annotation``. Wide form: a
        tz-aware DatetimeIndex and one column per series name. NaN uploads a null value.
        ``labels`` apply to every series named by name. Series that do not exist are created
        (as ``new_series_kind``) unless ``create_missing_series`` is False.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        series = frame_to_series(df, labels)
        header = types_pb2.RunHeader(
            workflow_id=workflow_id,
            create_missing_series=create_missing_series,
            new_series_kind=_kind(new_series_kind),
        )
        if known_time is not None:
            header.known_time.CopyFrom(_timestamp(known_time))
        if params:
            header.params.CopyFrom(_struct(params))

        def requests() -> Iterator[ts.UploadRequest]:
            yield ts.UploadRequest(header=header)
            for points in series:
                for chunk in chunks_of(points, chunk_size):
                    yield ts.UploadRequest(chunks=[chunk])

        res = self._call(self._stub.Upload, requests())
        return UploadResult(res.run_id, res.point_count, dict(res.series_ids))

    def read(
        self,
        *,
        series_ids: Iterable[str] = (),
        name: str = "",
        labels: Mapping[str, str] | None = None,
        mode: str = "latest",
        start_valid: Time | None = None,
        end_valid: Time | None = None,
        start_known: Time | None = None,
        end_known: Time | None = None,
        as_of: Time | None = None,
        chunk_size: int = 0,
        values_only: bool = False,
    ) -> pd.DataFrame:
        """Reads values in a bitemporal ``mode`` ("latest", "as_of", "all_vintages",
        "corrections") into a long DataFrame: series_id, name, valid_time (UTC), value (NaN
        = null), and the columns the mode fills (known_time, run_id, change_time,
        changed_by, ...). Valid/known ranges are [start, end). With no series filter every
        series of the tenant is read. ``values_only`` (latest and as_of) leaves out
        known_time, run_id and change_time: less to transfer and decode.
        """
        req = ts.ReadValuesRequest(
            series_ids=list(series_ids),
            name=name,
            labels=dict(labels or {}),
            mode=_mode(mode),
            chunk_size=chunk_size,
            values_only=values_only,
        )
        for fieldname, value in (
            ("start_valid", start_valid),
            ("end_valid", end_valid),
            ("start_known", start_known),
            ("end_known", end_known),
            ("as_of", as_of),
        ):
            if value is not None:
                getattr(req, fieldname).CopyFrom(_timestamp(value))
        chunks = [c for res in self._stream(self._stub.ReadValues, req) for c in res.chunks]
        # The stream names each series in its first chunk: one call, however many series.
        names = {c.series.series_id: c.series.name for c in chunks if c.series.name}
        return chunks_to_frame(chunks, names)

    def list_runs(
        self,
        *,
        workflow_id: str = "",
        start_known: Time | None = None,
        end_known: Time | None = None,
    ) -> pd.DataFrame:
        """Runs, newest known_time first, following all pages: run_id, known_time,
        workflow_id, params (dict), started_at, finished_at, created_at, point_count."""
        rows: list[dict[str, Any]] = []
        token = ""
        while True:
            req = ts.ListRunsRequest(workflow_id=workflow_id, page_size=1000, page_token=token)
            if start_known is not None:
                req.start_known.CopyFrom(_timestamp(start_known))
            if end_known is not None:
                req.end_known.CopyFrom(_timestamp(end_known))
            res = self._call(self._stub.ListRuns, req)
            for r in res.runs:
                rows.append(
                    {
                        "run_id": r.run_id,
                        "known_time": _when(r, "known_time"),
                        "workflow_id": r.workflow_id,
                        "params": json_format.MessageToDict(r.params),
                        "started_at": _when(r, "started_at"),
                        "finished_at": _when(r, "finished_at"),
                        "created_at": _when(r, "created_at"),
                        "point_count": r.point_count,
                    }
                )
            token = res.next_page_token
            if not token:
                break
        columns = ["run_id", "known_time", "workflow_id", "params", "started_at", "finished_at"]
        frame = pd.DataFrame(rows, columns=[*columns, "created_at", "point_count"])
        for c in ("known_time", "started_at", "finished_at", "created_at"):
            frame[c] = pd.to_datetime(frame[c], utc=True).dt.as_unit("us")
        return frame

    # --- plumbing -----------------------------------------------------------------------

    def _call(self, method: Callable[..., T], request: Any) -> T:
        try:
            return method(request, metadata=self._metadata)
        except grpc.RpcError as err:
            raise TdbError.from_rpc_error(err) from None

    def _stream(self, method: Callable[..., Iterable[T]], request: Any) -> Iterator[T]:
        # A server stream fails while it is iterated, not when it is opened.
        try:
            yield from method(request, metadata=self._metadata)
        except grpc.RpcError as err:
            raise TdbError.from_rpc_error(err) from None


def _mode(mode: str | int) -> int:
    if isinstance(mode, int):
        return mode
    try:
        return _MODES[mode.lower()]
    except KeyError:
        raise ValueError(f"mode must be one of {sorted(_MODES)}, got {mode!r}") from None


def _kind(kind: str) -> int:
    try:
        return _KINDS[kind.lower()]
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(_KINDS)}, got {kind!r}") from None


def _timestamp(value: Time) -> timestamp_pb2.Timestamp:
    """A tz-aware time → Timestamp, to the microsecond. Naive times are refused."""
    ts_ = pd.Timestamp(value)
    if ts_.tzinfo is None:
        raise ValueError(f"time {value!r} must be tz-aware (e.g. UTC)")
    us = int(ts_.tz_convert("UTC").as_unit("us").asm8.astype("int64"))  # µs since epoch
    return timestamp_pb2.Timestamp(seconds=us // 1_000_000, nanos=(us % 1_000_000) * 1000)


def _when(msg: Any, fieldname: str) -> pd.Timestamp | None:
    if not msg.HasField(fieldname):
        return None
    t = getattr(msg, fieldname)
    return pd.Timestamp(t.seconds * 1_000_000 + t.nanos // 1000, unit="us", tz="UTC")


def _struct(params: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(params))
    return s


def _series(s: types_pb2.Series) -> Series:
    kind = {v: k for k, v in _KINDS.items()}.get(s.kind, "actual")
    created = _when(s, "created_at")
    return Series(s.series_id, s.name, dict(s.labels), s.unit, s.description, kind, created)
