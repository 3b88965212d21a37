import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SeriesKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERIES_KIND_UNSPECIFIED: _ClassVar[SeriesKind]
    SERIES_KIND_ACTUAL: _ClassVar[SeriesKind]
    SERIES_KIND_FORECAST: _ClassVar[SeriesKind]

class ReadMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    READ_MODE_UNSPECIFIED: _ClassVar[ReadMode]
    READ_MODE_LATEST: _ClassVar[ReadMode]
    READ_MODE_AS_OF: _ClassVar[ReadMode]
    READ_MODE_ALL_VINTAGES: _ClassVar[ReadMode]
    READ_MODE_CORRECTIONS: _ClassVar[ReadMode]
SERIES_KIND_UNSPECIFIED: SeriesKind
SERIES_KIND_ACTUAL: SeriesKind
SERIES_KIND_FORECAST: SeriesKind
READ_MODE_UNSPECIFIED: ReadMode
READ_MODE_LATEST: ReadMode
READ_MODE_AS_OF: ReadMode
READ_MODE_ALL_VINTAGES: ReadMode
READ_MODE_CORRECTIONS: ReadMode

class Series(_message.Message):
    __slots__ = ("series_id", "name", "labels", "unit", "description", "kind", "created_at")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SERIES_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    series_id: str
    name: str
    labels: _containers.ScalarMap[str, str]
    unit: str
    description: str
    kind: SeriesKind
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, series_id: _Optional[str] = ..., name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., unit: _Optional[str] = ..., description: _Optional[str] = ..., kind: _Optional[_Union[SeriesKind, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SeriesRef(_message.Message):
    __slots__ = ("series_id", "name", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SERIES_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    series_id: str
    name: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, series_id: _Optional[str] = ..., name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class StringList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class PointChunk(_message.Message):
    __slots__ = ("series", "valid_times", "values", "nulls", "valid_time_ends", "annotations", "tags", "metadata", "known_times", "run_ids", "change_times", "changed_by")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    VALID_TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    NULLS_FIELD_NUMBER: _ClassVar[int]
    VALID_TIME_ENDS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    KNOWN_TIMES_FIELD_NUMBER: _ClassVar[int]
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIMES_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    series: SeriesRef
    valid_times: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    nulls: _containers.RepeatedScalarFieldContainer[bool]
    valid_time_ends: _containers.RepeatedScalarFieldContainer[int]
    annotations: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedCompositeFieldContainer[StringList]
    metadata: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    known_times: _containers.RepeatedScalarFieldContainer[int]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    change_times: _containers.RepeatedScalarFieldContainer[int]
    changed_by: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, series: _Optional[_Union[SeriesRef, _Mapping]] = ..., valid_times: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ..., nulls: _Optional[_Iterable[bool]] = ..., valid_time_ends: _Optional[_Iterable[int]] = ..., annotations: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[_Union[StringList, _Mapping]]] = ..., metadata: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., known_times: _Optional[_Iterable[int]] = ..., run_ids: _Optional[_Iterable[str]] = ..., change_times: _Optional[_Iterable[int]] = ..., changed_by: _Optional[_Iterable[str]] = ...) -> None: ...

class RunHeader(_message.Message):
    __slots__ = ("known_time", "workflow_id", "params", "create_missing_series", "new_series_kind", "started_at", "finished_at")
    KNOWN_TIME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CREATE_MISSING_SERIES_FIELD_NUMBER: _ClassVar[int]
    NEW_SERIES_KIND_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    known_time: _timestamp_pb2.Timestamp
    workflow_id: str
    params: _struct_pb2.Struct
    create_missing_series: bool
    new_series_kind: SeriesKind
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    def __init__(self, known_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., workflow_id: _Optional[str] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., create_missing_series: _Optional[bool] = ..., new_series_kind: _Optional[_Union[SeriesKind, str]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ("run_id", "known_time", "workflow_id", "params", "started_at", "finished_at", "created_at", "point_count")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    KNOWN_TIME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    POINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    known_time: _timestamp_pb2.Timestamp
    workflow_id: str
    params: _struct_pb2.Struct
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    point_count: int
    def __init__(self, run_id: _Optional[str] = ..., known_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., workflow_id: _Optional[str] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., point_count: _Optional[int] = ...) -> None: ...

class SeriesCount(_message.Message):
    __slots__ = ("series_id", "name", "labels", "point_count")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SERIES_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    POINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    series_id: str
    name: str
    labels: _containers.ScalarMap[str, str]
    point_count: int
    def __init__(self, series_id: _Optional[str] = ..., name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., point_count: _Optional[int] = ...) -> None: ...
