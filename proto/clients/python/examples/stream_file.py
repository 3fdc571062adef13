"""Streams a recording to a Candor server and prints each segment as it arrives, then
the summary: what a platform plugin does with a live call.

    python stream_file.py --server localhost:50051 --api-key KEY interview.mp4 [--realtime]

Exit code: 0 once the summary arrived, 1 on a gRPC error (printed with its status).
"""

import argparse
import os
import sys

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import candor_client  # noqa: E402
from candor_client import candor_pb2 as pb  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("--server", default=os.environ.get("CANDOR_SERVER", "localhost:50051"))
    p.add_argument("--api-key", default=os.environ.get("CANDOR_API_KEY"))
    p.add_argument("--realtime", action="store_true", help="send at the pace it was filmed")
    a = p.parse_args()

    stub = candor_client.connect(a.server, a.api_key)
    state = lambda s: pb.RiskState.Name(s).removeprefix("RISK_STATE_").lower()  # noqa: E731
    try:
        for r in candor_client.stream_file(stub, a.file, realtime=a.realtime):
            kind = r.WhichOneof("event")
            if kind == "accepted":
                models = ", ".join(f"{m.name} {m.version}" for m in r.accepted.models)
                print(f"session {r.accepted.session_id} accepted"
                      f" ({r.accepted.execution_provider}; {models})")
            elif kind == "segment":
                s = r.segment
                score = f"{s.attack_score:.2f}" if s.HasField("attack_score") else "-"
                reason = s.reasons[0].message if s.reasons else ""
                print(f"segment {s.index:3d} {s.start_us / 1e6:6.2f}-{s.end_us / 1e6:6.2f} s"
                      f"  {state(s.state):<12} attack {score}  {reason}")
            elif kind == "summary":
                m = r.summary
                print(f"summary: {state(m.worst_state)}, {m.segments} segments,"
                      f" {m.duration_us / 1e6:.2f} s, frames analysed {m.frames.analysed}"
                      + (f", ended by {m.ended_by}" if m.ended_by else ""))
                return 0
    except grpc.RpcError as e:
        print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    print("error: the stream ended without a summary", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
