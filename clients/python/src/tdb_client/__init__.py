"""TDB client for Python: generated gRPC stubs (``tdb_client.gen``) and a small
pandas-friendly :class:`TdbClient`."""

from tdb_client.client import Series, TdbClient, UploadResult
from tdb_client.errors import TdbError

__all__ = ["Series", "TdbClient", "TdbError", "UploadResult"]
