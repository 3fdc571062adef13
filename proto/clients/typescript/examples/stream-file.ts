// Streams a recording to a Candor server and prints each segment as it arrives, then
// the summary: what a platform plugin does with a live call.
//
//   node dist/examples/stream-file.js [--server host:port] [--api-key KEY] [--realtime] FILE
//
// Exit code: 0 once the summary arrived, 1 on a gRPC error (printed with its status).

import { connect, streamFile } from "../src";

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const server = flag("--server") ?? process.env.CANDOR_SERVER ?? "localhost:50051";
  const apiKey = flag("--api-key") ?? process.env.CANDOR_API_KEY;
  const realtime = args.includes("--realtime");
  const file = args.filter((a) => a !== "--realtime")[0];
  if (!file) {
    console.error("usage: stream-file [--server host:port] [--api-key KEY] [--realtime] FILE");
    return 2;
  }
  const client = connect(server, { apiKey });
  const state = (s: string) => s.replace("RISK_STATE_", "").toLowerCase();
  try {
    for await (const r of streamFile(client, file, { realtime })) {
      if (r.accepted) {
        const models = r.accepted.models.map((m) => `${m.name} ${m.version}`).join(", ");
        console.log(`session ${r.accepted.sessionId} accepted (${r.accepted.executionProvider}; ${models})`);
      } else if (r.segment) {
        const s = r.segment;
        const score = s.attackScore == null ? "-" : s.attackScore.toFixed(2);
        const range = `${(Number(s.startUs) / 1e6).toFixed(2)}-${(Number(s.endUs) / 1e6).toFixed(2)} s`;
        console.log(`segment ${String(s.index).padStart(3)} ${range.padStart(13)}  ${state(s.state).padEnd(12)} attack ${score}  ${s.reasons[0]?.message ?? ""}`);
      } else if (r.summary) {
        const m = r.summary;
        console.log(`summary: ${state(m.worstState)}, ${m.segments} segments, ${(Number(m.durationUs) / 1e6).toFixed(2)} s, frames analysed ${m.frames?.analysed ?? 0}${m.endedBy ? `, ended by ${m.endedBy}` : ""}`);
        client.close();
        return 0;
      }
    }
  } catch (e) {
    const err = e as { code?: number; details?: string; message: string };
    console.error(`error: ${err.code ?? ""} ${err.details ?? err.message}`);
    client.close();
    return 1;
  }
  console.error("error: the stream ended without a summary");
  client.close();
  return 1;
}

main().then((code) => process.exit(code));
