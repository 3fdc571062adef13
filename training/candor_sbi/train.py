"""Train the SBI face-swap detector.

Each batch holds B reals and their own B pseudo-fakes (label 1), so the model
can only tell them apart by the blend. Early stopping on the SBI loss (reals and
pseudo-fakes) of the identity-held-out split (split == val); the val pairs are
drawn with fixed seeds, so the val figures are comparable across epochs.
"""
import argparse
import itertools
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Sampler

from . import data
from .model import Detector, to_uint8_tensor

DATA_DIR = data.DATA_DIR
GATE = 0.95


class PairDataset(Dataset):
    """Item k of the train stream is face k % n in epoch k // n (EpochSampler),
    so the pair seed (seed, epoch, face) needs no state in persistent workers.
    Val pairs use the same seed every epoch."""

    def __init__(self, faces, size, seed, train):
        self.faces, self.size, self.seed, self.train = faces, size, seed, train

    def __len__(self):
        return len(self.faces)

    def __getitem__(self, k):
        epoch, i = divmod(k, len(self.faces))
        key = [self.seed, epoch, i] if self.train else [self.seed, 1_000_003, i]
        rng = np.random.default_rng(key)
        real, fake, _ = data.make_pair(self.faces[i], self.size, rng, train=self.train)
        return real, fake, np.float32(self.faces[i].weight)


class EpochSampler(Sampler):
    """Endless stream of shuffled epochs (item epoch * n + face), each cut to
    whole batches. One loader then serves every epoch: its workers keep running
    and prefetching across epoch ends."""

    def __init__(self, n, batch, seed):
        self.n, self.batch, self.seed = n, batch, seed

    def __iter__(self):
        for epoch in itertools.count():
            order = np.random.default_rng([self.seed, epoch]).permutation(self.n)
            yield from (epoch * self.n + int(i) for i in order[: self.n // self.batch * self.batch])


def collate(items):
    reals = np.stack([r for r, _, _ in items])
    fakes = np.stack([f for _, f, _ in items])
    w = torch.tensor([w for _, _, w in items])
    x = to_uint8_tensor(np.concatenate([reals, fakes]))
    y = torch.cat([torch.zeros(len(items)), torch.ones(len(items))])
    return x, y, torch.cat([w, w])


def loaders(train_faces, val_faces, size, batch, seed, workers, device):
    """(endless train batch iterator, steps per epoch, val batches held on device)."""
    kw = dict(collate_fn=collate, num_workers=workers, pin_memory=device.type == "cuda")
    train_dl = DataLoader(PairDataset(train_faces, size, seed, train=True), batch_size=batch,
                          sampler=EpochSampler(len(train_faces), batch, seed), persistent_workers=workers > 0, **kw)
    batches = iter(train_dl)  # starts the workers, which keep making train pairs from here on
    val_dl = DataLoader(PairDataset(val_faces, size, seed, train=False), batch_size=batch, **kw)
    # The val pairs are the same every epoch: make them once.
    val = [tuple(t.to(device) for t in b) for b in val_dl]
    return batches, len(train_faces) // batch, val


def train_step(model, opt, x, y, w, amp=None):
    """One AdamW step; amp: autocast dtype (bf16 on CUDA) or None for fp32."""
    model.train()
    with torch.autocast(x.device.type, dtype=amp, enabled=amp is not None):
        logit = model(x.float()).squeeze(1)
    loss = (F.binary_cross_entropy_with_logits(logit.float(), y, reduction="none") * w).sum() / w.sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


@torch.no_grad()
def evaluate(model, loader, device="cpu"):
    model.eval()
    logits, labels = [], []
    for x, y, _ in loader:
        logits.append(model(x.to(device).float()).squeeze(1).float().cpu())
        labels.append(y.cpu())
    logit, y = torch.cat(logits), torch.cat(labels)
    loss = F.binary_cross_entropy_with_logits(logit, y, reduction="none")
    pred = (logit > 0).float()
    fake, real = y == 1, y == 0
    out = {
        "val_loss": loss.mean().item(),
        "val_fake_loss": loss[fake].mean().item(),
        "val_real_loss": loss[real].mean().item(),
        "val_fake_acc": (pred[fake] == 1).float().mean().item(),  # pseudo-fake recall
        "val_real_acc": (pred[real] == 0).float().mean().item(),
    }
    out["val_acc"] = (out["val_fake_acc"] + out["val_real_acc"]) / 2
    out["val_auc"] = auc(logit.numpy(), y.numpy())
    return out


def auc(score, label):
    """ROC AUC by the rank-sum formula (ties get the mean rank)."""
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    s = score[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = label == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pick(faces, split, limit, seed):
    chosen = [f for f in faces if f.split == split]
    if limit and limit < len(chosen):
        idx = np.random.default_rng(seed).choice(len(chosen), limit, replace=False)
        chosen = [chosen[i] for i in sorted(idx)]
    return chosen


def fit(model, opt, sched, batches, steps_per_epoch, val, log, out, *, epochs, patience,
        deadline=None, amp=None):
    """Train for up to `epochs` epochs of steps_per_epoch batches, evaluating
    val after each. Stops early after `patience` epochs without a val_loss gain,
    or when deadline (time.monotonic()) would pass before one more val eval; the
    epoch cut short is still evaluated and logged. Each epoch rewrites
    out/log.json; out/best.pt holds the best epoch's weights."""
    device = next(model.parameters()).device
    t = time.monotonic()
    log["epoch0"] = evaluate(model, val, device)  # untrained baseline: how far val_loss falls
    eval_s = time.monotonic() - t
    print(json.dumps({"epoch": 0, **log["epoch0"]}), flush=True)
    best, bad, images = float("inf"), 0, 0
    for epoch in range(1, epochs + 1):
        te, losses = time.monotonic(), []
        for _ in range(steps_per_epoch):
            if deadline is not None and time.monotonic() + 1.5 * eval_s + 1 > deadline:
                break
            x, y, w = next(batches)
            dev = (v.to(device, non_blocking=True) for v in (x, y, w))
            losses.append(train_step(model, opt, *dev, amp=amp))
            sched.step()
            images += len(x)
        if not losses:
            break
        row = {"epoch": epoch, "steps": len(losses), "images_seen": images,
               "train_loss": float(np.mean(losses)), "lr": sched.get_last_lr()[0]}
        t = time.monotonic()
        row.update(evaluate(model, val, device))
        eval_s = time.monotonic() - t
        row["epoch_s"] = round(time.monotonic() - te, 1)
        log["epochs"].append(row)
        log["images_seen"] = images
        if row["val_loss"] < best:
            best, bad = row["val_loss"], 0
            log["best_epoch"] = epoch
            torch.save({"size": model.size, "state_dict": model.state_dict(), "epoch": epoch},
                       os.path.join(out, "best.pt"))
        else:
            bad += 1
        log["best"] = next(r for r in log["epochs"] if r["epoch"] == log["best_epoch"])
        log["gate_passed"] = log["best"]["val_acc"] >= GATE
        with open(os.path.join(out, "log.json"), "w") as f:
            json.dump(log, f, indent=1)
        print(json.dumps(row), flush=True)
        if len(losses) < steps_per_epoch:
            print("time budget spent", flush=True)
            break
        if bad >= patience:
            print(f"early stop: no val_loss gain for {patience} epochs", flush=True)
            break
    return log


def split_faces(faces, limit_train, limit_val, seed):
    """Train and val faces; refuses an identity group in both."""
    train_faces = pick(faces, "train", limit_train, seed)
    val_faces = pick(faces, "val", limit_val, seed + 1)
    assert not {f.group for f in train_faces} & {f.group for f in val_faces}, "identity leak"
    return train_faces, val_faces


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dfdc", default=os.path.join(DATA_DIR, "train-faces-dfdc"))
    p.add_argument("--studio", default=None, help="train-faces folder (needs --studio-mesh)")
    p.add_argument("--studio-mesh", default=None, help="mesh npz from candor_sbi.mesh")
    p.add_argument("--out", required=True, help="run folder (checkpoint + log.json); keep it out of git")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch", type=int, default=16, help="reals per batch (the batch holds 2x images)")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, default=0, help="use this many train reals (0: all)")
    p.add_argument("--limit-val", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--no-pretrained", action="store_true")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    faces = data.load_dfdc(args.dfdc) if args.dfdc else []
    if args.studio:
        if not args.studio_mesh:
            raise SystemExit("--studio needs --studio-mesh (python -m candor_sbi.mesh)")
        faces += data.load_studio(args.studio, args.studio_mesh)
    train_faces, val_faces = split_faces(faces, args.limit_train, args.limit_val, args.seed)
    batches, steps, val = loaders(train_faces, val_faces, args.size, args.batch, args.seed, args.workers, device)

    model = Detector(args.size, pretrained=not args.no_pretrained).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    total = args.epochs * steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))

    os.makedirs(args.out, exist_ok=True)
    log = {
        "command": " ".join([os.path.basename(sys.executable), "-m", "candor_sbi.train", *(argv or sys.argv[1:])]),
        "args": vars(args), "device": str(device), "torch": torch.__version__,
        "n_train": len(train_faces), "n_val": len(val_faces), "gate": GATE, "epochs": [],
    }
    t0 = time.monotonic()
    fit(model, opt, sched, batches, steps, val, log, args.out, epochs=args.epochs, patience=args.patience)
    log["wall_s"] = round(time.monotonic() - t0, 1)
    with open(os.path.join(args.out, "log.json"), "w") as f:
        json.dump(log, f, indent=1)
    b = log["best"]
    print(f"best epoch {b['epoch']}: val_acc {b['val_acc']:.4f} "
          f"(gate {GATE}: {'PASSED' if log['gate_passed'] else 'NOT passed'}), wall {log['wall_s']} s")
    return log


if __name__ == "__main__":
    main()
