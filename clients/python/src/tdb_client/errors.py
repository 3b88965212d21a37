"""Errors of the TDB client: one exception type that carries the gRPC status code."""

from __future__ import annotations

import grpc


class TdbError(Exception):
    """A failed TDB call.

    ``code`` is the gRPC status code name (``"UNAUTHENTICATED"``, ``"PERMISSION_DENIED"``,
    ``"INVALID_ARGUMENT"``, ``"NOT_FOUND"``, ...), so callers can branch on it without
    importing grpc; ``status`` is the same code as a ``grpc.StatusCode``; ``message`` is the
    server's message, which names the offending field for bad input.
    """

    def __init__(self, status: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{status.name}: {message}")
        self.status = status
        self.code: str = status.name
        self.message = message

    @classmethod
    def from_rpc_error(cls, err: grpc.RpcError) -> TdbError:
        """Wraps the error grpcio raises (a ``grpc.Call`` with ``code()``/``details()``)."""
        code = err.code() if isinstance(err, grpc.Call) else grpc.StatusCode.UNKNOWN
        details = err.details() if isinstance(err, grpc.Call) else str(err)
        return cls(code, details or "")
