"""Streaming helpers: open a session, send an encoded stream in chunks, read the
results as they come.

A live source (a meeting bot's H.264, a browser's MediaRecorder WebM chunks) is any
iterable of bytes given to `stream_chunks`; a recording is sent by `stream_file`, which
hands H.264 Annex-B and WebM files over as they are and turns any other container into
H.264 Annex-B with the `ffmpeg` command-line tool (copying the video when it is H.264,
re-encoding it otherwise).
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

import grpc

from . import candor_pb2 as pb
from . import candor_pb2_grpc as pb_grpc

CHUNK_BYTES = 64 * 1024


def connect(target: str, api_key: Optional[str] = None, tls: bool = False,
            root_certificates: Optional[bytes] = None) -> pb_grpc.CandorStub:
    """A stub for `target` (host:port); with `api_key`, every call carries it as
    `authorization: Bearer <key>`."""
    if tls:
        creds = grpc.ssl_channel_credentials(root_certificates=root_certificates)
        if api_key:
            creds = grpc.composite_channel_credentials(
                creds, grpc.access_token_call_credentials(api_key))
        channel = grpc.secure_channel(target, creds)
    else:
        channel = grpc.insecure_channel(target)
        if api_key:
            channel = grpc.intercept_channel(channel, _BearerKey(api_key))
    return pb_grpc.CandorStub(channel)


class _BearerKey(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor,
                 grpc.UnaryStreamClientInterceptor):
    """Adds the API key to every call on a plaintext channel (gRPC's call credentials
    need TLS; a loopback or mesh-internal server may not have it)."""

    def __init__(self, key: str):
        self._metadata = ("authorization", f"Bearer {key}")

    def _with_key(self, details):
        metadata = list(details.metadata or []) + [self._metadata]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_key(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_key(details), request)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._with_key(details), requests)


def format_of(path: str) -> int:
    """The chunk format a file is sent in: its own for `.h264`/`.264` and
    `.webm`/`.mkv`, else H.264 Annex-B made by ffmpeg (see `file_chunks`)."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".webm", ".mkv"):
        return pb.MEDIA_FORMAT_WEBM
    return pb.MEDIA_FORMAT_H264_ANNEXB


def file_chunks(path: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The bytes of `path` in the format `format_of` names, `chunk_bytes` at a time."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".h264", ".264", ".webm", ".mkv"):
        with open(path, "rb") as f:
            while chunk := f.read(chunk_bytes):
                yield chunk
        return
    # Copy H.264 as it is (with start codes); anything else is re-encoded as a live
    # encoder would (no B-frames, a key frame every 2 s).
    codec = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name", "-of", "csv=p=0", path],
        check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    video = (["-c:v", "copy", "-bsf:v", "h264_mp4toannexb"] if codec == "h264" else
             ["-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "50",
              "-pix_fmt", "yuv420p"])
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-i", path, "-an", *video, "-f", "h264",
                             "-"], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(chunk_bytes):
            yield chunk
    finally:
        proc.stdout.close()
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg could not turn {path} into H.264 (exit {proc.returncode})")


def paced(chunks: Iterable[bytes], duration_s: float, total_bytes: int) -> Iterator[bytes]:
    """Sends `chunks` at the pace of a live source: byte `n` of `total_bytes` not
    before `n / total_bytes * duration_s` seconds (a recording played as if live)."""
    start, sent = time.monotonic(), 0
    for chunk in chunks:
        due = start + sent / max(total_bytes, 1) * duration_s
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent += len(chunk)
        yield chunk


@dataclass
class Session:
    """What a session is opened with (`SessionStart`)."""

    participant_id: str = "participant"
    session_id: str = ""
    candidate_ref: Optional[str] = None
    interview_ref: Optional[str] = None
    fps_hint: Optional[float] = None
    device_label: str = ""
    platform: str = "candor-client-python"

    def start(self, media_format: int) -> pb.SessionStart:
        return pb.SessionStart(
            session_id=self.session_id or f"py-{uuid.uuid4()}",
            participant_id=self.participant_id,
            candidate_ref=self.candidate_ref,
            interview_ref=self.interview_ref,
            format=media_format,
            fps_hint=self.fps_hint,
            capture=pb.CaptureInfo(device_label=self.device_label, platform=self.platform,
                                   client_version="0.1.0"),
        )


def stream_chunks(stub: pb_grpc.CandorStub, chunks: Iterable[bytes], media_format: int,
                  session: Optional[Session] = None,
                  timeout_s: Optional[float] = None) -> Iterator[pb.AnalyzeResponse]:
    """Opens a session, sends `chunks` (a live source or a file) and yields every
    response as it arrives: `accepted`, then `segment`s and `state_change`s while
    the video is analysed, and the `summary` last. A gRPC error (bad media, bad
    credentials, a full server) is raised as `grpc.RpcError` with Candor's status
    and message."""
    session = session or Session()
    requests: "queue.Queue[Optional[pb.AnalyzeRequest]]" = queue.Queue(maxsize=16)

    def send():
        try:
            requests.put(pb.AnalyzeRequest(start=session.start(media_format)))
            for chunk in chunks:
                requests.put(pb.AnalyzeRequest(chunk=pb.MediaChunk(data=chunk)))
            requests.put(pb.AnalyzeRequest(finish=pb.Finish()))
        finally:
            requests.put(None)

    # The sender runs on its own thread, so a slow (paced) source never holds back
    # reading results.
    sender = threading.Thread(target=send, name="candor-send", daemon=True)
    sender.start()
    responses = stub.Analyze(iter(requests.get, None), timeout=timeout_s)
    yield from responses


def stream_file(stub: pb_grpc.CandorStub, path: str, session: Optional[Session] = None,
                realtime: bool = False) -> Iterator[pb.AnalyzeResponse]:
    """`stream_chunks` for a recording; with `realtime`, at the pace it was filmed."""
    chunks: Iterable[bytes] = file_chunks(path)
    if realtime:
        duration = float(subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
             path], check=True, stdout=subprocess.PIPE, text=True).stdout.strip() or 0)
        data = list(chunks)
        chunks = paced(data, duration, sum(len(c) for c in data))
    return stream_chunks(stub, chunks, format_of(path), session)


def segments(responses: Iterable[pb.AnalyzeResponse]) -> Iterator[pb.SegmentResult]:
    """Only the segment results of a response stream."""
    for r in responses:
        if r.WhichOneof("event") == "segment":
            yield r.segment
