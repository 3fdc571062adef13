"""Export a checkpoint to ONNX (opset 17, dynamic batch) and check that ONNX
Runtime matches PyTorch within 1e-4 on a batch of real aligned crops and
their pseudo-fakes.

ONNX model: input `image` [N, 3, S, S] float32, RGB 0-255, aligned crop
(crop.py); outputs `logit` [N, 1] and `fake_prob` [N, 1] = sigmoid(logit).
"""
import argparse
import os

import numpy as np
import torch

from . import data
from .model import ExportWrapper, load_checkpoint, to_tensor

TOL = 1e-4


def export(model, path, opset=17):
    wrapper = ExportWrapper(model).eval()
    dummy = torch.zeros(2, 3, model.size, model.size)
    torch.onnx.export(
        wrapper, (dummy,), path, input_names=["image"], output_names=["logit", "fake_prob"],
        dynamic_axes={"image": {0: "batch"}, "logit": {0: "batch"}, "fake_prob": {0: "batch"}},
        opset_version=opset, dynamo=False,
    )
    return path


def check(model, path, batch):
    """Max abs difference of (logit, fake_prob) between PyTorch and ONNX Runtime."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = [t.numpy() for t in ExportWrapper(model).eval()(torch.from_numpy(batch))]
    got = sess.run(["logit", "fake_prob"], {"image": batch})
    return max(float(np.abs(a - b).max()) for a, b in zip(ref, got))


def sample_batch(faces, size, n, seed=0):
    """n reals from the val split and their pseudo-fakes, as the model sees them."""
    faces = [f for f in faces if f.split == "val"]
    rng = np.random.default_rng(seed)
    reals, fakes = [], []
    for f in faces[:n]:
        r, k, _ = data.make_pair(f, size, rng, train=False)
        reals.append(r)
        fakes.append(k)
    return to_tensor(np.stack(reals + fakes)).numpy()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", required=True, help="ONNX path; keep it out of git")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--check-n", type=int, default=4, help="val reals in the check batch (2x images)")
    args = p.parse_args(argv)
    model = load_checkpoint(args.checkpoint)
    export(model, args.out, args.opset)
    faces = data.load_dfdc(os.path.join(data.DATA_DIR, "train-faces-dfdc"))
    diff = check(model, args.out, sample_batch(faces, model.size, args.check_n))
    print(f"exported {args.out} (opset {args.opset}, {model.size} px); max |onnxruntime - torch| = {diff:.2e}")
    if diff > TOL:
        raise SystemExit(f"ONNX check FAILED: {diff:.2e} > {TOL}")
    print("ONNX check passed")


if __name__ == "__main__":
    main()
