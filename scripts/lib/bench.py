"""Runs the capacity benchmark for `scripts/bench` (which builds Candor and makes the
clip first) and prints its tables; writes every figure to a JSON file. Standard
library only. Figures, never pass/fail: shared machines are too noisy for that.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import soak


def args_parser():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--candor", required=True, help="release binary")
    p.add_argument("--clip", required=True, help="the benchmark clip (H.264)")
    p.add_argument("--models", required=True, help="models folder")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--sessions", default="1,2,4,6,8,12,16,24,32",
                   help="live session counts to try, in order, until one falls behind")
    p.add_argument("--batch-copies", type=int, default=8)
    p.add_argument("--runs", type=int, default=2, help="runs of `analyze`, best kept")
    p.add_argument("--model-runs", type=int, default=100)
    p.add_argument("--python", default="", help="venv python for the Python reference")
    p.add_argument("--soak-minutes", type=float, default=0.0)
    p.add_argument("--soak-sessions", type=int, default=2)
    p.add_argument("--soak-session-s", type=int, default=120)
    p.add_argument("--work", required=True, help="scratch folder")
    return p


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, **kw):
    """Runs `cmd`; returns (stdout, wall seconds, CPU seconds of the child)."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout
    return out, time.perf_counter() - t0, children_cpu() - cpu0


def machine_ticks():
    """(busy, total) CPU ticks of the whole machine, from the first line of /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`candor serve` on loopback without authentication and with a fresh data dir."""

    def __init__(self, candor, work, max_sessions):
        self.grpc, self.http = free_port(), free_port()
        self.data = tempfile.mkdtemp(dir=work, prefix="serve-")
        self.log = open(os.path.join(self.data, "serve.log"), "w")
        self.proc = subprocess.Popen(
            [candor, "serve", "--insecure-no-auth", "--listen", f"127.0.0.1:{self.grpc}",
             "--metrics-listen", f"127.0.0.1:{self.http}", "--data-dir", self.data,
             "--max-sessions", str(max_sessions)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"candor serve exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.25)
        raise RuntimeError("candor serve did not become healthy in 120 s")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


def load(a, n, repeat=1, rss_every=0):
    server = Server(a.candor, a.work, max(16, n))
    try:
        cmd = [a.candor, "load", a.clip, "--server", f"http://127.0.0.1:{server.grpc}",
               "--sessions", str(n), "--server-pid", str(server.proc.pid),
               "--repeat", str(repeat), "--rss-every-s", str(rss_every)]
        busy0, total0 = machine_ticks()
        out, _, client_cpu = timed(cmd)
        busy1, total1 = machine_ticks()
    finally:
        server.stop()
    r = json.loads(out)
    r["client_cpu_s"] = client_cpu
    # How busy the whole machine was, other work included: a run that falls behind on
    # a machine kept busy by others says little about the server.
    r["machine_busy"] = (busy1 - busy0) / max(1, total1 - total0)
    return r


def stage_bounds(a):
    out, _, _ = timed([a.candor, "bench-models", a.clip, "--runs", str(a.model_runs),
                       "--models-dir", a.models])
    r = json.loads(out)
    _, wall, cpu = timed(["ffmpeg", "-v", "error", "-threads", "1", "-i", a.clip,
                          "-f", "null", "-"])
    frames = r["decode"]["frames"]
    r["ffmpeg_one_thread"] = {"wall_s": wall, "cpu_s": cpu, "fps": frames / wall,
                              "cpu_ms_per_video_s": cpu * 1e3 / r["video_s"]}
    # The best possible cost takes the cheaper decode: the pipeline's frame threads
    # cost CPU to coordinate, and ffmpeg alone converts nothing to BGR.
    r["best_bound_cpu_ms_per_video_s"] = r["models_cpu_ms_per_video_s"] + min(
        r["decode"]["cpu_ms_per_video_s"], r["ffmpeg_one_thread"]["cpu_ms_per_video_s"])
    return r


def start_up(a):
    """Process start, model load and warm-up, read off `analyze` of one still."""
    still = os.path.join(a.models, "samples", "image_F1.jpg")
    _, wall, cpu = timed([a.candor, "analyze", "--json", "--models-dir", a.models, still])
    return {"wall_s": wall, "cpu_s": cpu}


def full_work_flags():
    """Candor doing the Python reference's full work: glances always, every forgery
    classifier."""
    return ["--idle-glance-fps", "15", "--forgery-models", "all"]


def analyze_once(a, video_s, start, flags=()):
    best = None
    for _ in range(max(1, a.runs)):
        out, wall, cpu = timed([a.candor, "analyze", "--json", "--models-dir", a.models,
                                *flags, a.clip])
        summary = json.loads(out.strip().splitlines()[-1])
        if best is None or wall < best["wall_s"]:
            # Steady figures leave out start-up, as the Python reference's timing does.
            steady_wall = max(wall - start["wall_s"], 1e-3)
            steady_cpu = max(cpu - start["cpu_s"], 1e-3)
            best = {"wall_s": wall, "cpu_s": cpu, "x_realtime": video_s / wall,
                    "cpu_s_per_video_s": cpu / video_s,
                    "steady_x_realtime": video_s / steady_wall,
                    "steady_cpu_s_per_video_s": steady_cpu / video_s,
                    "analysed": summary["counts"]["analysed"],
                    "mean_liveness": summary.get("mean_liveness")}
    return best


def batch_folder(a, video_s):
    folder = os.path.join(a.work, "batch-in")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    # Copies differ in one metadata tag only: distinct files (batch recognises files by
    # content) with the same pictures, without re-encoding.
    for i in range(a.batch_copies):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", a.clip, "-c", "copy",
                        "-metadata", f"comment=bench copy {i}",
                        os.path.join(folder, f"copy{i:02d}.mp4")], check=True)
    out_dir = tempfile.mkdtemp(dir=a.work, prefix="batch-out-")
    data = tempfile.mkdtemp(dir=a.work, prefix="batch-data-")
    try:
        _, wall, cpu = timed([a.candor, "batch", "--out", out_dir, "--data-dir", data,
                              "--models-dir", a.models, folder], stderr=subprocess.DEVNULL)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    total = video_s * a.batch_copies
    return {"files": a.batch_copies, "video_s": total, "wall_s": wall, "cpu_s": cpu,
            "x_realtime": total / wall, "cpu_s_per_video_s": cpu / total,
            "jobs": os.cpu_count()}


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "load_avg_start": os.getloadavg(), "commit": commit,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def fmt(v, spec=".2f", none="-"):
    return none if v is None else format(v, spec)


def print_live(rows):
    print("\nLive: N sessions fed in real time (H.264 Annex-B chunks over gRPC, loopback);"
          " latency from a segment's last frame sent to its result; lag: sender behind"
          " schedule; gen s: CPU of the load generator; machine: share of all cores busy, other"
          " work included")
    print(f"{'N':>3} {'anl fps/sess':>12} {'dropped':>7} {'p50 s':>6} {'p99 s':>6} {'max s':>6}"
          f" {'lag s':>6} {'gen s':>6} {'srv cores':>9} {'cpu s/vid s/sess':>16} {'peak RSS MiB':>12} {'machine':>8}  holds")
    for r in rows:
        s = r["server"]
        print(f"{r['sessions']:>3} {r['analysed_fps_min']:>5.2f}-{r['analysed_fps_mean']:<6.2f}"
              f" {r['dropped']:>7} {fmt(r['latency_p50_s']):>6} {fmt(r['latency_p99_s']):>6}"
              f" {fmt(r['latency_max_s']):>6} {r['send_lag_max_s']:>6.2f} {r['client_cpu_s']:>6.1f}"
              f" {fmt(s['cpu_cores']):>9} {fmt(s['cpu_s_per_video_s_per_session'], '.3f'):>16}"
              f" {fmt(s['rss_peak_mib'], '.0f'):>12} {r['machine_busy']:>8.0%}"
          f"  {'yes' if r['holds_real_time'] else 'NO'}")


def print_bounds(b):
    print(f"\nStage bounds (one-thread sessions, a real face {b['face_width_px']:.0f} px wide;"
          f" CPU per call, mean of {b['runs']})")
    d, f = b["decode"], b["ffmpeg_one_thread"]
    print(f"  {'stage':<20} {'input':<10} {'ms/call':>8} {'calls/s':>8} {'CPU ms per video s':>18}")
    print(f"  {'decode (pipeline)':<20} {'1280x720':<10} {'':>8} {25:>8} {d['cpu_ms_per_video_s']:>18.0f}"
          f"   ({d['fps']:.0f} fps wall, sampled+glanced frames scaled)")
    print(f"  {'decode (ffmpeg -threads 1)':<31} {'':>8} {25:>8} {f['cpu_ms_per_video_s']:>18.0f}"
          f"   ({f['fps']:.0f} fps)")
    for m in b["models"]:
        print(f"  {m['name']:<20} {m['input']:<10} {m['cpu_ms']:>8.1f} {m['per_video_s']:>8.0f}"
              f" {m['cpu_ms_per_video_s']:>18.0f}")
    print(f"  {'bound: pipeline decode + models':<49} {b['bound_cpu_ms_per_video_s']:>9.0f}")
    print(f"  {'best bound: cheaper decode + models':<49} {b['best_bound_cpu_ms_per_video_s']:>9.0f}")


def main():
    a = args_parser().parse_args()
    os.makedirs(a.work, exist_ok=True)
    report = {"machine": machine(), "clip": a.clip}
    started = time.perf_counter()
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                            "-of", "csv=p=0", a.clip], stdout=subprocess.PIPE, text=True,
                           check=True).stdout
    video_s = float(probe.strip())
    report["clip_s"] = video_s

    if a.soak_minutes > 0:
        print(f"soak: {a.soak_minutes:g} min of rounds of {a.soak_sessions} sessions of"
              f" about {a.soak_session_s} s, server RSS, fds and threads every 10 s", flush=True)
        server = Server(a.candor, a.work, max(16, a.soak_sessions))
        try:
            r = soak.soak(a, server, video_s, a.soak_minutes, a.soak_sessions, a.soak_session_s)
        finally:
            server.stop()
        report["soak"] = r
        soak.print_soak(r)
    else:
        print("stage bounds ...", flush=True)
        report["stage_bounds"] = bounds = stage_bounds(a)
        print("analyze (one recording) ...", flush=True)
        report["start_up"] = start = start_up(a)
        report["analyze"] = one = analyze_once(a, video_s, start)
        print("analyze (one recording, the full work) ...", flush=True)
        report["analyze_full_work"] = full = analyze_once(a, video_s, start, full_work_flags())
        print(f"batch ({a.batch_copies} copies) ...", flush=True)
        report["batch"] = folder = batch_folder(a, video_s)
        if a.python:
            script = os.path.join(os.path.dirname(__file__), "..", "bench_reference.py")
            print("Python reference (Candor's default work, and the full work) ...", flush=True)
            out, _, _ = timed([a.python, script, a.clip, a.models, "--lean"])
            report["python_reference"] = json.loads(out)
            out, _, _ = timed([a.python, script, a.clip, a.models])
            report["python_reference_full_work"] = json.loads(out)
        live = []
        for n in [int(x) for x in a.sessions.split(",") if x]:
            print(f"live: {n} sessions ...", flush=True)
            r = load(a, n)
            live.append(r)
            if not r["holds_real_time"]:
                break
        report["live"] = live
        held = [r["sessions"] for r in live if r["holds_real_time"]]
        report["live_capacity"] = max(held) if held else 0
        bound_s = bounds["best_bound_cpu_ms_per_video_s"] / 1e3
        report["efficiency"] = {
            "analyze": bound_s / one["steady_cpu_s_per_video_s"],
            "live_n1": (bound_s / live[0]["server"]["cpu_s_per_video_s_per_session"]
                        if live and live[0]["server"]["cpu_s_per_video_s_per_session"] else None),
        }
        py = report.get("python_reference")
        if py:
            pyf = report["python_reference_full_work"]
            report["vs_python"] = {
                "analyze_speed": one["steady_x_realtime"] / py["x_realtime"],
                "batch_speed": folder["x_realtime"] / py["x_realtime"],
                "cpu_per_video_s": py["cpu_s_per_video_s"] / one["steady_cpu_s_per_video_s"],
                "full_work_analyze_speed": full["steady_x_realtime"] / pyf["x_realtime"],
                "full_work_cpu_per_video_s": (pyf["cpu_s_per_video_s"]
                                              / full["steady_cpu_s_per_video_s"]),
            }

        m = report["machine"]
        print(f"\nCandor capacity benchmark: {os.path.basename(a.clip)} ({video_s:.0f} s, 1280x720"
              f" 25 fps H.264), {m['cpus']} CPUs ({m['cpu_model']}), load avg at start"
              f" {m['load_avg_start'][0]:.1f}, commit {m['commit']}")
        print_live(live)
        print(f"  -> live capacity: {report['live_capacity']} sessions hold 2 analysed fps,"
              " no sampled frame dropped, p99 <= 1 s"
              + ("" if not live or not live[-1]["holds_real_time"] else
                 " (every N tried held)"))
        print("\nBatch (recorded files, as fast as possible)")
        print(f"  analyze, one recording: {one['x_realtime']:.2f}x real time"
              f" ({one['wall_s']:.1f} s wall incl. {start['wall_s']:.1f} s start-up and model"
              f" load), {one['cpu_s_per_video_s']:.3f} CPU s per video s; without start-up"
              f" {one['steady_x_realtime']:.2f}x, {one['steady_cpu_s_per_video_s']:.3f} CPU s"
              " per video s")
        print(f"  analyze, the full work (glances always, every classifier): {full['steady_x_realtime']:.2f}x without start-up,"
              f" {full['steady_cpu_s_per_video_s']:.3f} CPU s per video s")
        print(f"  batch, {folder['files']} recordings, --jobs {folder['jobs']}:"
              f" {folder['x_realtime']:.2f}x real time for the folder"
              f" ({folder['wall_s']:.1f} s), {folder['cpu_s_per_video_s']:.3f} CPU s per video s")
        print_bounds(bounds)
        e = report["efficiency"]
        print(f"\nPipeline efficiency (best bound / measured CPU per video s): analyze without"
              f" start-up {e['analyze']:.0%}"
              f", live N=1 server {fmt(e['live_n1'], '.0%')}")
        if py:
            v = report["vs_python"]
            print(f"\nPython reference (onnxruntime {py['versions']['onnxruntime']}, OpenCV"
                  f" {py['versions']['opencv']}, one process, one thread): {py['x_realtime']:.2f}x"
                  f" real time, {py['cpu_s_per_video_s']:.3f} CPU s per video s")
            print(f"  Candor / Python, the same work as Candor's defaults: analyze speed (both"
                  f" without start-up) {v['analyze_speed']:.2f}x, batch folder speed (Candor on"
                  f" every core) {v['batch_speed']:.2f}x; Python's CPU per video s / Candor's"
                  f" {v['cpu_per_video_s']:.2f}")
            print(f"  Candor / Python, the full work (Python {pyf['x_realtime']:.2f}x,"
                  f" {pyf['cpu_s_per_video_s']:.3f} CPU s per video s): analyze speed"
                  f" {v['full_work_analyze_speed']:.2f}x; Python's CPU per video s / Candor's"
                  f" {v['full_work_cpu_per_video_s']:.2f}")
        else:
            print("\nPython reference: skipped (no venv)")

    report["machine"]["load_avg_end"] = os.getloadavg()
    report["wall_s"] = time.perf_counter() - started
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"\n(total {report['wall_s']:.0f} s; figures in {a.out}; load average at end"
          f" {report['machine']['load_avg_end'][0]:.1f}: other work on a shared machine"
          " skews every figure)")


if __name__ == "__main__":
    sys.exit(main())
