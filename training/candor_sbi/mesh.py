"""MediaPipe 468-point face mesh for crops that ship without one (train-faces).

Recipe of ../shared/models/MANIFEST.md: ROI from the YuNet box (1.5 x box,
rotation from the eyes), 192x192 warp with BORDER_REPLICATE (so points past
the crop are extrapolated), RGB 0-1 NCHW; a second pass takes its ROI from the
first mesh. Needs numpy, OpenCV and onnxruntime, not torch.

    python -m candor_sbi.mesh --faces ../shared/data/train-faces \
        --out ~/.cache/candor-train/train-faces-mesh468.npz
"""
import argparse
import math
import os

import cv2
import numpy as np

from . import data

IN = 192


def roi_matrix(centre, side, angle):
    """2x3 image -> 192x192 crop of a square ROI rotated by angle."""
    s = IN / side
    ca, sa = math.cos(angle), math.sin(angle)
    cx, cy = centre
    return np.array([[s * ca, s * sa, IN / 2 - s * (ca * cx + sa * cy)],
                     [-s * sa, s * ca, IN / 2 - s * (-sa * cx + ca * cy)]])


def run_mesh(sess, img_rgb, m):
    x = cv2.warpAffine(img_rgb, m, (IN, IN), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    x = (x.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    pts, presence = sess.run(["conv2d_21", "conv2d_31"], {"input_1": x})
    pts = pts.reshape(468, 3)[:, :2].astype(np.float64)
    inv = cv2.invertAffineTransform(m)
    return pts @ inv[:, :2].T + inv[:, 2], 1 / (1 + math.exp(-float(presence.ravel()[0])))


def face_mesh(sess, img_rgb, box, lm5):
    x, y, w, h = box
    angle = math.atan2(lm5[1, 1] - lm5[0, 1], lm5[1, 0] - lm5[0, 0])
    pts, _ = run_mesh(sess, img_rgb, roi_matrix((x + w / 2, y + h / 2), 1.5 * max(w, h), angle))
    lo, hi = pts.min(0), pts.max(0)
    angle = math.atan2(pts[263, 1] - pts[33, 1], pts[263, 0] - pts[33, 0])
    return run_mesh(sess, img_rgb, roi_matrix((lo + hi) / 2, 1.5 * max(hi - lo), angle))


MODEL = os.path.join(data.DATA_DIR, "..", "models", "mediapipe_face_landmark_468.onnx")


def session(model=MODEL):
    import onnxruntime as ort

    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def row_mesh(sess, faces_dir, row):
    """(468, 2) float16 mesh of one landmarks.tsv row, or None when MediaPipe
    sees no face (presence < 0.5)."""
    img = data.read_rgb(os.path.join(faces_dir, row["file"]))
    box = [float(row[k]) for k in ("box_x", "box_y", "box_w", "box_h")]
    pts, presence = face_mesh(sess, img, box, data._lm5(row))
    return pts.astype(np.float16) if presence >= 0.5 else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faces", default=os.path.join(data.DATA_DIR, "train-faces"))
    p.add_argument("--model", default=MODEL)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    sess = session(args.model)
    files, meshes, dropped = [], [], 0
    for r in data._read_tsv(os.path.join(args.faces, "landmarks.tsv")):
        pts = row_mesh(sess, args.faces, r)
        if pts is None:
            dropped += 1
            continue
        files.append(r["file"])
        meshes.append(pts)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez_compressed(args.out, files=np.array(files), xy=np.stack(meshes))
    print(f"{len(files)} meshes -> {args.out} ({dropped} dropped: face presence < 0.5)")


if __name__ == "__main__":
    main()
