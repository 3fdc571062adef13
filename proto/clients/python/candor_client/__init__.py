"""Client for Candor's gRPC API (`proto/candor/v1/candor.proto`).

`candor_pb2` and `candor_pb2_grpc` are generated from the proto (`proto/clients/regenerate`);
`stream` holds the helpers a platform needs to send a recording or a live source and
read its results.
"""

from . import candor_pb2, candor_pb2_grpc
from .stream import (
    Session,
    connect,
    file_chunks,
    format_of,
    paced,
    segments,
    stream_chunks,
    stream_file,
)

__all__ = [
    "Session",
    "candor_pb2",
    "candor_pb2_grpc",
    "connect",
    "file_chunks",
    "format_of",
    "paced",
    "segments",
    "stream_chunks",
    "stream_file",
]
