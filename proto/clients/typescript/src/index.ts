// Client for Candor's gRPC API (proto/candor/v1/candor.proto). The message and
// service types in ./generated are generated from the proto (proto/clients/regenerate);
// the proto itself is loaded at run time by @grpc/proto-loader. The helpers below do
// what a platform plugin needs: open a session, send a live source or a recording as
// encoded chunks, and read the results as they arrive.

import * as fs from "fs";
import * as path from "path";
import { spawn, spawnSync } from "child_process";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

import type { ProtoGrpcType } from "./generated/candor";
import type { CandorClient } from "./generated/candor/v1/Candor";
import type { AnalyzeRequest } from "./generated/candor/v1/AnalyzeRequest";
import type { AnalyzeResponse__Output } from "./generated/candor/v1/AnalyzeResponse";
import type { MediaFormat } from "./generated/candor/v1/MediaFormat";
import type { SegmentResult__Output } from "./generated/candor/v1/SegmentResult";

export type { CandorClient, AnalyzeResponse__Output, SegmentResult__Output, MediaFormat };

const CHUNK_BYTES = 64 * 1024;

/** The proto: beside the built package, else in the source tree. */
function protoPath(): string {
  const candidates = [
    path.join(__dirname, "..", "..", "candor.proto"),
    path.join(__dirname, "..", "..", "..", "..", "candor", "v1", "candor.proto"),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`candor.proto not found (looked in ${candidates.join(", ")})`);
  return found;
}

/** The options the generated types were made with (proto/clients/regenerate). */
const LOADER_OPTIONS: protoLoader.Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export interface ConnectOptions {
  /** Sent as `authorization: Bearer <key>` on every call. */
  apiKey?: string;
  /** TLS with these root certificates (PEM), or the system's when `true`. */
  tls?: boolean | Buffer;
}

/** A client for the server at `target` (host:port). */
export function connect(target: string, options: ConnectOptions = {}): CandorClient {
  const definition = protoLoader.loadSync(protoPath(), LOADER_OPTIONS);
  const proto = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  let creds: grpc.ChannelCredentials = options.tls
    ? grpc.credentials.createSsl(Buffer.isBuffer(options.tls) ? options.tls : undefined)
    : grpc.credentials.createInsecure();
  const key = options.apiKey;
  const interceptors: grpc.Interceptor[] = [];
  if (key && options.tls) {
    const call = grpc.credentials.createFromMetadataGenerator((_, cb) => {
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${key}`);
      cb(null, md);
    });
    creds = grpc.credentials.combineChannelCredentials(creds, call);
  } else if (key) {
    // Call credentials need TLS: on a plaintext (loopback, mesh-internal) channel the
    // key goes in by an interceptor.
    interceptors.push((opts, next) =>
      new grpc.InterceptingCall(next(opts), {
        start(metadata, listener, nextStart) {
          metadata.set("authorization", `Bearer ${key}`);
          nextStart(metadata, listener);
        },
      }),
    );
  }
  return new proto.candor.v1.Candor(target, creds, { interceptors });
}

/** The chunk format a file is sent in: its own for .h264/.264 and .webm/.mkv, else
 * H.264 Annex-B made by ffmpeg (see `fileChunks`). */
export function formatOf(file: string): MediaFormat {
  const ext = path.extname(file).toLowerCase();
  return ext === ".webm" || ext === ".mkv" ? "MEDIA_FORMAT_WEBM" : "MEDIA_FORMAT_H264_ANNEXB";
}

/** The bytes of `file` in the format `formatOf` names. Other containers go through the
 * `ffmpeg` CLI: H.264 copied with start codes, anything else re-encoded as a live
 * encoder would (no B-frames, a key frame every 2 s). */
export async function* fileChunks(file: string, chunkBytes = CHUNK_BYTES): AsyncGenerator<Buffer> {
  const ext = path.extname(file).toLowerCase();
  if ([".h264", ".264", ".webm", ".mkv"].includes(ext)) {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: chunkBytes })) {
      yield chunk as Buffer;
    }
    return;
  }
  const probe = spawnSync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
    "stream=codec_name", "-of", "csv=p=0", file], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`ffprobe cannot read ${file}: ${probe.stderr}`);
  const video = probe.stdout.trim() === "h264"
    ? ["-c:v", "copy", "-bsf:v", "h264_mp4toannexb"]
    : ["-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "50", "-pix_fmt", "yuv420p"];
  const ffmpeg = spawn("ffmpeg", ["-v", "error", "-i", file, "-an", ...video, "-f", "h264", "-"],
    { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number>((resolve) => ffmpeg.on("close", (code) => resolve(code ?? 1)));
  for await (const chunk of ffmpeg.stdout) yield chunk as Buffer;
  const code = await exited;
  if (code !== 0) throw new Error(`ffmpeg could not turn ${file} into H.264 (exit ${code})`);
}

/** What a session is opened with (`SessionStart`). */
export interface SessionOptions {
  participantId?: string;
  sessionId?: string;
  candidateRef?: string;
  interviewRef?: string;
  fpsHint?: number;
  deviceLabel?: string;
}

/**
 * Opens a session, sends `chunks` (a live source or a file) and yields every response
 * as it arrives: `accepted`, then `segment`s and `stateChange`s while the video is
 * analysed, and the `summary` last. A gRPC error (bad media, bad credentials, a full
 * server) is thrown with Candor's status code and message.
 */
export async function* streamChunks(
  client: CandorClient,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  format: MediaFormat,
  session: SessionOptions = {},
): AsyncGenerator<AnalyzeResponse__Output> {
  const call = client.Analyze();
  const start: AnalyzeRequest = {
    start: {
      sessionId: session.sessionId ?? `ts-${Date.now()}-${Math.random().toString(36).slice(2)}`,
      participantId: session.participantId ?? "participant",
      candidateRef: session.candidateRef,
      interviewRef: session.interviewRef,
      format,
      fpsHint: session.fpsHint,
      capture: { deviceLabel: session.deviceLabel ?? "", platform: "candor-client-ts",
        clientVersion: "0.1.0" },
    },
  };
  // Sending runs beside reading, so a slow (paced) source never holds back results;
  // writes wait for the transport's buffer to drain.
  const send = (async () => {
    const write = (req: AnalyzeRequest) =>
      new Promise<void>((resolve) => (call.write(req) ? resolve() : call.once("drain", resolve)));
    await write(start);
    for await (const data of chunks) await write({ chunk: { data } });
    await write({ finish: {} });
    call.end();
  })();
  // A source that fails ends the call; its error is thrown below, after the results.
  send.catch(() => call.cancel());
  for await (const response of call as AsyncIterable<AnalyzeResponse__Output>) {
    yield response;
  }
  await send;
}

/** Sends `chunks` at the pace of a live source: byte n of `totalBytes` not before
 * n / totalBytes × durationS seconds. */
export async function* paced(chunks: Buffer[], durationS: number): AsyncGenerator<Buffer> {
  const total = chunks.reduce((n, c) => n + c.length, 0) || 1;
  const start = Date.now();
  let sent = 0;
  for (const chunk of chunks) {
    const wait = start + (sent / total) * durationS * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sent += chunk.length;
    yield chunk;
  }
}

/** `streamChunks` for a recording; with `realtime`, at the pace it was filmed. */
export async function* streamFile(
  client: CandorClient,
  file: string,
  options: SessionOptions & { realtime?: boolean } = {},
): AsyncGenerator<AnalyzeResponse__Output> {
  let chunks: AsyncIterable<Buffer> = fileChunks(file);
  if (options.realtime) {
    const probe = spawnSync("ffprobe", ["-v", "error", "-show_entries", "format=duration",
      "-of", "csv=p=0", file], { encoding: "utf8" });
    const all: Buffer[] = [];
    for await (const c of chunks) all.push(c);
    chunks = paced(all, parseFloat(probe.stdout) || 0);
  }
  yield* streamChunks(client, chunks, formatOf(file), options);
}

/** Only the segment results of a response stream. */
export async function* segments(
  responses: AsyncIterable<AnalyzeResponse__Output>,
): AsyncGenerator<SegmentResult__Output> {
  for await (const r of responses) if (r.segment) yield r.segment;
}
