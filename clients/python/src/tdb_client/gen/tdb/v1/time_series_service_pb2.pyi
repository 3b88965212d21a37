import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tdb_client.gen.tdb.v1 import options_pb2 as _options_pb2
from tdb_client.gen.tdb.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateSeriesRequest(_message.Message):
    __slots__ = ("name", "labels", "unit", "description", "kind")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    unit: str
    description: str
    kind: _types_pb2.SeriesKind
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., unit: _Optional[str] = ..., description: _Optional[str] = ..., kind: _Optional[_Union[_types_pb2.SeriesKind, str]] = ...) -> None: ...

class CreateSeriesResponse(_message.Message):
    __slots__ = ("series",)
    SERIES_FIELD_NUMBER: _ClassVar[int]
    series: _types_pb2.Series
    def __init__(self, series: _Optional[_Union[_types_pb2.Series, _Mapping]] = ...) -> None: ...

class GetSeriesRequest(_message.Message):
    __slots__ = ("series_id",)
    SERIES_ID_FIELD_NUMBER: _ClassVar[int]
    series_id: str
    def __init__(self, series_id: _Optional[str] = ...) -> None: ...

class GetSeriesResponse(_message.Message):
    __slots__ = ("series",)
    SERIES_FIELD_NUMBER: _ClassVar[int]
    series: _types_pb2.Series
    def __init__(self, series: _Optional[_Union[_types_pb2.Series, _Mapping]] = ...) -> None: ...

class ListSeriesRequest(_message.Message):
    __slots__ = ("name", "labels", "unit", "page_size", "page_token")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    unit: str
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., unit: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSeriesResponse(_message.Message):
    __slots__ = ("series", "next_page_token")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    series: _containers.RepeatedCompositeFieldContainer[_types_pb2.Series]
    next_page_token: str
    def __init__(self, series: _Optional[_Iterable[_Union[_types_pb2.Series, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteSeriesRequest(_message.Message):
    __slots__ = ("series_id",)
    SERIES_ID_FIELD_NUMBER: _ClassVar[int]
    series_id: str
    def __init__(self, series_id: _Optional[str] = ...) -> None: ...

class DeleteSeriesResponse(_message.Message):
    __slots__ = ("deleted_value_count",)
    DELETED_VALUE_COUNT_FIELD_NUMBER: _ClassVar[int]
    deleted_value_count: int
    def __init__(self, deleted_value_count: _Optional[int] = ...) -> None: ...

class UploadRequest(_message.Message):
    __slots__ = ("header", "chunks")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    header: _types_pb2.RunHeader
    chunks: _containers.RepeatedCompositeFieldContainer[_types_pb2.PointChunk]
    def __init__(self, header: _Optional[_Union[_types_pb2.RunHeader, _Mapping]] = ..., chunks: _Optional[_Iterable[_Union[_types_pb2.PointChunk, _Mapping]]] = ...) -> None: ...

class UploadBatchRequest(_message.Message):
    __slots__ = ("header", "chunks")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    header: _types_pb2.RunHeader
    chunks: _containers.RepeatedCompositeFieldContainer[_types_pb2.PointChunk]
    def __init__(self, header: _Optional[_Union[_types_pb2.RunHeader, _Mapping]] = ..., chunks: _Optional[_Iterable[_Union[_types_pb2.PointChunk, _Mapping]]] = ...) -> None: ...

class UploadResponse(_message.Message):
    __slots__ = ("run_id", "point_count", "series_ids", "series_counts")
    class SeriesIdsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    POINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    SERIES_IDS_FIELD_NUMBER: _ClassVar[int]
    SERIES_COUNTS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    point_count: int
    series_ids: _containers.ScalarMap[str, str]
    series_counts: _containers.RepeatedCompositeFieldContainer[_types_pb2.SeriesCount]
    def __init__(self, run_id: _Optional[str] = ..., point_count: _Optional[int] = ..., series_ids: _Optional[_Mapping[str, str]] = ..., series_counts: _Optional[_Iterable[_Union[_types_pb2.SeriesCount, _Mapping]]] = ...) -> None: ...

class UploadBatchResponse(_message.Message):
    __slots__ = ("run_id", "point_count", "series_ids", "series_counts")
    class SeriesIdsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    POINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    SERIES_IDS_FIELD_NUMBER: _ClassVar[int]
    SERIES_COUNTS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    point_count: int
    series_ids: _containers.ScalarMap[str, str]
    series_counts: _containers.RepeatedCompositeFieldContainer[_types_pb2.SeriesCount]
    def __init__(self, run_id: _Optional[str] = ..., point_count: _Optional[int] = ..., series_ids: _Optional[_Mapping[str, str]] = ..., series_counts: _Optional[_Iterable[_Union[_types_pb2.SeriesCount, _Mapping]]] = ...) -> None: ...

class ReadValuesRequest(_message.Message):
    __slots__ = ("series_ids", "name", "labels", "start_valid", "end_valid", "start_known", "end_known", "as_of", "mode", "chunk_size", "values_only")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SERIES_IDS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    START_VALID_FIELD_NUMBER: _ClassVar[int]
    END_VALID_FIELD_NUMBER: _ClassVar[int]
    START_KNOWN_FIELD_NUMBER: _ClassVar[int]
    END_KNOWN_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    VALUES_ONLY_FIELD_NUMBER: _ClassVar[int]
    series_ids: _containers.RepeatedScalarFieldContainer[str]
    name: str
    labels: _containers.ScalarMap[str, str]
    start_valid: _timestamp_pb2.Timestamp
    end_valid: _timestamp_pb2.Timestamp
    start_known: _timestamp_pb2.Timestamp
    end_known: _timestamp_pb2.Timestamp
    as_of: _timestamp_pb2.Timestamp
    mode: _types_pb2.ReadMode
    chunk_size: int
    values_only: bool
    def __init__(self, series_ids: _Optional[_Iterable[str]] = ..., name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., start_valid: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_valid: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_known: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_known: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., mode: _Optional[_Union[_types_pb2.ReadMode, str]] = ..., chunk_size: _Optional[int] = ..., values_only: _Optional[bool] = ...) -> None: ...

class ReadValuesResponse(_message.Message):
    __slots__ = ("chunks",)
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    chunks: _containers.RepeatedCompositeFieldContainer[_types_pb2.PointChunk]
    def __init__(self, chunks: _Optional[_Iterable[_Union[_types_pb2.PointChunk, _Mapping]]] = ...) -> None: ...

class ValueUpdate(_message.Message):
    __slots__ = ("series", "valid_time", "run_id", "value", "clear_value", "annotation", "clear_annotation", "tags", "clear_tags", "metadata", "clear_metadata")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    VALID_TIME_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CLEAR_VALUE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    CLEAR_ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CLEAR_TAGS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CLEAR_METADATA_FIELD_NUMBER: _ClassVar[int]
    series: _types_pb2.SeriesRef
    valid_time: int
    run_id: str
    value: float
    clear_value: bool
    annotation: str
    clear_annotation: bool
    tags: _types_pb2.StringList
    clear_tags: bool
    metadata: _struct_pb2.Struct
    clear_metadata: bool
    def __init__(self, series: _Optional[_Union[_types_pb2.SeriesRef, _Mapping]] = ..., valid_time: _Optional[int] = ..., run_id: _Optional[str] = ..., value: _Optional[float] = ..., clear_value: _Optional[bool] = ..., annotation: _Optional[str] = ..., clear_annotation: _Optional[bool] = ..., tags: _Optional[_Union[_types_pb2.StringList, _Mapping]] = ..., clear_tags: _Optional[bool] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., clear_metadata: _Optional[bool] = ...) -> None: ...

class UpdateValuesRequest(_message.Message):
    __slots__ = ("updates",)
    UPDATES_FIELD_NUMBER: _ClassVar[int]
    updates: _containers.RepeatedCompositeFieldContainer[ValueUpdate]
    def __init__(self, updates: _Optional[_Iterable[_Union[ValueUpdate, _Mapping]]] = ...) -> None: ...

class UpdateValuesResponse(_message.Message):
    __slots__ = ("updated_count", "skipped_count")
    UPDATED_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_COUNT_FIELD_NUMBER: _ClassVar[int]
    updated_count: int
    skipped_count: int
    def __init__(self, updated_count: _Optional[int] = ..., skipped_count: _Optional[int] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("workflow_id", "start_known", "end_known", "page_size", "page_token")
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    START_KNOWN_FIELD_NUMBER: _ClassVar[int]
    END_KNOWN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    workflow_id: str
    start_known: _timestamp_pb2.Timestamp
    end_known: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, workflow_id: _Optional[str] = ..., start_known: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_known: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_types_pb2.Run]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[_types_pb2.Run, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
