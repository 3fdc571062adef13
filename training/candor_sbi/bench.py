"""The figures behind the input size of the one-shot run: ONNX Runtime CPU
latency of EfficientNet-Lite0 per crop (the service's cost), and the rate of
SBI pair generation per CPU core (the training's data rate).

    python -m candor_sbi.bench [--sizes 160 224 256] [--pairs 60]
"""
import argparse
import os
import tempfile
import time

import numpy as np

from . import data

THREADS = (1, 2)


def ort_latency_ms(size, threads, runs):
    """Median ms for one crop (batch 1); random weights time the same as trained ones."""
    import onnxruntime as ort

    from .export import export
    from .model import Detector

    with tempfile.TemporaryDirectory() as tmp:
        path = export(Detector(size, pretrained=False).eval(), os.path.join(tmp, "m.onnx"))
        out = {}
        for n in threads:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads, opts.inter_op_num_threads = n, 1
            sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            x = {"image": np.random.default_rng(0).uniform(0, 255, (1, 3, size, size)).astype(np.float32)}
            for _ in range(5):
                sess.run(None, x)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                sess.run(None, x)
                times.append(time.perf_counter() - t)
            out[n] = 1000 * float(np.median(times))
    return out


def pairs_per_s(faces, size, seed=0):
    """data.make_pair on one core (OpenCV is single-threaded there), images read from disk."""
    t = time.perf_counter()
    for i, f in enumerate(faces):
        data.make_pair(f, size, np.random.default_rng([seed, i]))
    return len(faces) / (time.perf_counter() - t)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[160, 224, 256])
    p.add_argument("--pairs", type=int, default=60, help="DFDC train faces per pair-rate run")
    p.add_argument("--repeats", type=int, default=3, help="pair-rate runs per size (the best is kept)")
    p.add_argument("--runs", type=int, default=50, help="ONNX Runtime runs per size and thread count")
    args = p.parse_args(argv)
    faces = [f for f in data.load_dfdc(os.path.join(data.DATA_DIR, "train-faces-dfdc")) if f.split == "train"]
    faces = faces[: args.pairs]
    print("size | ORT ms/crop, " + ", ".join(f"{n} thread(s)" for n in THREADS) + " | SBI pairs/s per core")
    for size in args.sizes:
        ms = ort_latency_ms(size, THREADS, args.runs)
        # best of a few: the cores here are shared, so the slower runs measure the neighbours
        rate = max(pairs_per_s(faces, size) for _ in range(args.repeats))
        print(f"{size} | " + ", ".join(f"{ms[n]:.1f}" for n in THREADS) + f" | {rate:.0f}", flush=True)


if __name__ == "__main__":
    main()
