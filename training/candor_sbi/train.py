"""Train the SBI face-swap detector.

Each batch holds B reals and their own B pseudo-fakes (label 1), so the model
can only tell them apart by the blend. Early stopping on the SBI loss (reals and
pseudo-fakes) of the identity-held-out split (split == val); the val pairs are
drawn with fixed seeds, so the val figures are comparable across epochs.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from . import data
from .model import Detector, to_tensor

DATA_DIR = data.DATA_DIR
GATE = 0.95


class PairDataset(Dataset):
    def __init__(self, faces, size, seed, train):
        self.faces, self.size, self.seed, self.train = faces, size, seed, train
        self.epoch = 0  # set before each epoch; workers get a fresh copy per epoch

    def __len__(self):
        return len(self.faces)

    def __getitem__(self, i):
        # Val pairs use the same seed every epoch; train pairs change per epoch.
        key = [self.seed, self.epoch, i] if self.train else [self.seed, 1_000_003, i]
        rng = np.random.default_rng(key)
        real, fake, _ = data.make_pair(self.faces[i], self.size, rng, train=self.train)
        return real, fake, np.float32(self.faces[i].weight)


def collate(items):
    reals = np.stack([r for r, _, _ in items])
    fakes = np.stack([f for _, f, _ in items])
    w = torch.tensor([w for _, _, w in items])
    x = to_tensor(np.concatenate([reals, fakes]))
    y = torch.cat([torch.zeros(len(items)), torch.ones(len(items))])
    return x, y, torch.cat([w, w])


def train_step(model, opt, x, y, w):
    model.train()
    logit = model(x).squeeze(1)
    loss = (F.binary_cross_entropy_with_logits(logit, y, reduction="none") * w).sum() / w.sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


@torch.no_grad()
def evaluate(model, loader, device="cpu"):
    model.eval()
    logits, labels = [], []
    for x, y, _ in loader:
        logits.append(model(x.to(device)).squeeze(1).float().cpu())
        labels.append(y)
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
    train_faces = pick(faces, "train", args.limit_train, args.seed)
    val_faces = pick(faces, "val", args.limit_val, args.seed + 1)
    assert not {f.group for f in train_faces} & {f.group for f in val_faces}, "identity leak"

    train_ds = PairDataset(train_faces, args.size, args.seed, train=True)
    val_ds = PairDataset(val_faces, args.size, args.seed, train=False)
    kw = dict(collate_fn=collate, num_workers=args.workers, pin_memory=device.type == "cuda")
    g = torch.Generator().manual_seed(args.seed)
    train_dl = DataLoader(train_ds, batch_size=args.batch, shuffle=True, drop_last=True, generator=g, **kw)
    val_dl = DataLoader(val_ds, batch_size=args.batch, shuffle=False, **kw)

    model = Detector(args.size, pretrained=not args.no_pretrained).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    total = args.epochs * len(train_dl)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))

    os.makedirs(args.out, exist_ok=True)
    log = {
        "command": " ".join([os.path.basename(sys.executable), "-m", "candor_sbi.train", *(argv or sys.argv[1:])]),
        "args": vars(args), "device": str(device), "torch": torch.__version__,
        "n_train": len(train_faces), "n_val": len(val_faces), "gate": GATE, "epochs": [],
    }
    t0 = time.time()
    # Untrained baseline, so the log shows how far the val loss falls.
    log["epoch0"] = evaluate(model, val_dl, device)
    print(json.dumps({"epoch": 0, **log["epoch0"]}), flush=True)
    best, bad = float("inf"), 0
    for epoch in range(args.epochs):
        train_ds.epoch = epoch
        te, losses = time.time(), []
        for x, y, w in train_dl:
            losses.append(train_step(model, opt, x.to(device), y.to(device), w.to(device)))
            sched.step()
        row = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)), "lr": sched.get_last_lr()[0]}
        row.update(evaluate(model, val_dl, device))
        row["epoch_s"] = round(time.time() - te, 1)
        log["epochs"].append(row)
        if row["val_loss"] < best:
            best, bad = row["val_loss"], 0
            log["best_epoch"] = row["epoch"]
            torch.save({"size": args.size, "state_dict": model.state_dict(), "epoch": row["epoch"]},
                       os.path.join(args.out, "best.pt"))
        else:
            bad += 1
        log["wall_s"] = round(time.time() - t0, 1)
        b = next(r for r in log["epochs"] if r["epoch"] == log["best_epoch"])
        log["gate_passed"] = b["val_acc"] >= GATE
        with open(os.path.join(args.out, "log.json"), "w") as f:
            json.dump(log, f, indent=1)
        print(json.dumps(row), flush=True)
        if bad >= args.patience:
            print(f"early stop: no val_loss gain for {args.patience} epochs", flush=True)
            break
    print(f"best epoch {log['best_epoch']}: val_acc {b['val_acc']:.4f} "
          f"(gate {GATE}: {'PASSED' if log['gate_passed'] else 'NOT passed'}), wall {log['wall_s']} s")
    return log


if __name__ == "__main__":
    main()
