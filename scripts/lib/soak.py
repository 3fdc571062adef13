"""The soak of `scripts/soak` (through `scripts/bench --soak`): one `candor serve` on
loopback, fed for a given time by rounds of real-time sessions (`candor load`), each
round N concurrent sessions of a given length with fresh session ids, as a node sees
interviews come and go. Every 10 s it reads the server's resident memory, open file
handles and threads from /proc; at the end it fits a least-squares line to each over
the samples after the warm-up and prints the slope per hour beside the spread of the
samples around the line (the noise), and the sessions the server still counts open.
Standard library only. Figures, never pass/fail.
"""

import json
import os
import subprocess
import threading
import time
import urllib.request

SAMPLE_EVERY_S = 10
WARMUP_S = 60


def proc_sample(pid):
    """(RSS MiB, open file handles, threads) of a live process, from /proc."""
    rss = threads = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds, threads


def fit(points):
    """Least-squares slope per hour of (seconds, value) points, and the standard
    deviation of the points around the line."""
    if len(points) < 3:
        return None, None
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((t - mx) ** 2 for t, _ in points)
    if sxx == 0:
        return None, None
    slope = sum((t - mx) * (v - my) for t, v in points) / sxx
    resid = [v - (my + slope * (t - mx)) for t, v in points]
    spread = (sum(r * r for r in resid) / (n - 2)) ** 0.5
    return slope * 3600, spread


def open_sessions(http_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("candor_sessions_open"):
                return float(line.rsplit(" ", 1)[1])
    return None


def soak(a, server, video_s, minutes, sessions, session_s):
    """Runs the soak against `server` (bench.Server); returns its figures."""
    pid = server.proc.pid
    samples = []
    started = time.time()
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            t = time.time() - started
            try:
                rss, fds, threads = proc_sample(pid)
            except OSError:
                return
            samples.append({"t_s": round(t, 1), "rss_mib": round(rss, 1), "fds": fds,
                            "threads": threads})
            print(f"soak {t / 60:6.1f} min  RSS {rss:6.1f} MiB  fds {fds:4d}"
                  f"  threads {threads:3d}", flush=True)
            stop.wait(SAMPLE_EVERY_S)

    watcher = threading.Thread(target=sampler, daemon=True)
    watcher.start()
    repeat = max(1, round(session_s / video_s))
    rounds = []
    deadline = started + minutes * 60
    while time.time() < deadline:
        cmd = [a.candor, "load", a.clip, "--server", f"http://127.0.0.1:{server.grpc}",
               "--sessions", str(sessions), "--repeat", str(repeat)]
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
        r = json.loads(out)
        rounds.append({k: r[k] for k in ("sessions", "dropped", "failed_sessions",
                                         "latency_p99_s", "segments")})
    # The server closes sessions as their summaries go out: give it a moment.
    time.sleep(2)
    still_open = open_sessions(server.http)
    stop.set()
    watcher.join()
    settled = [s for s in samples if s["t_s"] >= WARMUP_S]
    figures = {}
    for key in ("rss_mib", "fds", "threads"):
        slope, spread = fit([(s["t_s"], s[key]) for s in settled])
        figures[key] = {"first": samples[0][key], "after_warmup": settled[0][key] if settled else None,
                        "last": samples[-1][key], "max": max(s[key] for s in samples),
                        "slope_per_hour": slope, "spread": spread}
    return {
        "minutes": round((time.time() - started) / 60, 1),
        "concurrent_sessions": sessions,
        "session_s": repeat * video_s,
        "rounds": len(rounds),
        "sessions_run": sum(r["sessions"] for r in rounds),
        "failed_sessions": sum(r["failed_sessions"] for r in rounds),
        "dropped": sum(r["dropped"] for r in rounds),
        "latency_p99_s_max": max((r["latency_p99_s"] or 0) for r in rounds) if rounds else None,
        "sessions_open_at_end": still_open,
        "figures": figures,
        "samples": samples,
    }


def print_soak(r):
    print(f"\nsoak: {r['minutes']} min, {r['rounds']} rounds of {r['concurrent_sessions']}"
          f" sessions of {r['session_s']:.0f} s ({r['sessions_run']} sessions,"
          f" {r['failed_sessions']} failed, {r['dropped']} sampled frames dropped,"
          f" worst p99 {r['latency_p99_s_max']:.2f} s); sessions open at the end:"
          f" {r['sessions_open_at_end']:.0f}")
    print(f"{'':10} {'start':>8} {'after 1 min':>12} {'end':>8} {'max':>8}"
          f" {'slope/hour':>11} {'spread':>8}")
    for key, label in (("rss_mib", "RSS MiB"), ("fds", "open fds"), ("threads", "threads")):
        f = r["figures"][key]
        slope = "-" if f["slope_per_hour"] is None else f"{f['slope_per_hour']:+.1f}"
        spread = "-" if f["spread"] is None else f"{f['spread']:.1f}"
        print(f"{label:10} {f['first']:>8.0f} {f['after_warmup'] or 0:>12.0f} {f['last']:>8.0f}"
              f" {f['max']:>8.0f} {slope:>11} {spread:>8}")
