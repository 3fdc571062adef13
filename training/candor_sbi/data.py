"""Face records (image path, 5 landmarks, 468-point mesh, split, weight) and
the (real, pseudo-fake) pair generator. numpy + OpenCV only."""
import csv
import os
from dataclasses import dataclass

import cv2
import numpy as np

from . import crop, degrade, sbi

# Each DataLoader worker makes one pair at a time; OpenCV's own thread pool in
# every worker would only oversubscribe the cores.
cv2.setNumThreads(1)

LM_COLUMNS = (
    "right_eye_x", "right_eye_y", "left_eye_x", "left_eye_y", "nose_x", "nose_y",
    "mouth_right_x", "mouth_right_y", "mouth_left_x", "mouth_left_y",
)
# Same default as the Rust side: ../shared/data next to the checkout.
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_DIR = os.environ.get("CANDOR_TEST_DATA", os.path.join(REPO, "..", "shared", "data"))
GREY_WEIGHT = 0.3  # greyscale studio prints: far from the webcam domain


@dataclass
class Face:
    path: str
    lm5: np.ndarray  # (5, 2) YuNet order, source pixels
    mesh: np.ndarray  # (468, 2) MediaPipe mesh, source pixels
    split: str
    group: str
    weight: float = 1.0


def _read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _lm5(row):
    return np.array([float(row[c]) for c in LM_COLUMNS], np.float64).reshape(5, 2)


def _meshes(npz_path):
    z = np.load(npz_path)
    return {str(f): xy.astype(np.float64) for f, xy in zip(z["files"], z["xy"])}


def load_dfdc(root):
    """DFDC real crops (research-only terms). split/id_group from landmarks.tsv."""
    meshes = _meshes(os.path.join(root, "mesh468.npz"))
    return [
        Face(os.path.join(root, r["file"]), _lm5(r), meshes[r["file"]], r["split"], r["id_group"])
        for r in _read_tsv(os.path.join(root, "landmarks.tsv"))
    ]


def load_studio(root, mesh_npz):
    """Studio crops (train-faces). They ship without a mesh: mesh_npz comes from
    `python -m candor_sbi.mesh`. Greyscale crops get GREY_WEIGHT."""
    meshes = _meshes(mesh_npz)
    faces = []
    for r in _read_tsv(os.path.join(root, "landmarks.tsv")):
        if r["file"] not in meshes:
            continue
        w = GREY_WEIGHT if r["grayscale"] == "1" else 1.0
        group = f"{r['source']}:{r['identity']}"
        faces.append(Face(os.path.join(root, r["file"]), _lm5(r), meshes[r["file"]], r["split"], group, w))
    return faces


def read_rgb(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def crop_face(img, face, size, rng=None):
    """Aligned crop (crop.py convention) of image and mesh; with rng, a small
    shared crop jitter so the model tolerates landmark noise."""
    jitter = None
    if rng is not None:
        jitter = (*rng.uniform(-0.05, 0.05, 2), rng.uniform(0.93, 1.07), rng.uniform(-0.1, 0.1))
    m = crop.crop_matrix(face.lm5, size, jitter=jitter)
    return crop.warp(img, m, size), crop.transform_points(face.mesh, m)


def make_pair(face, size, rng, train=True, img=None):
    """(real, fake, mask): both images RGB uint8 (size, size, 3), degraded alike.
    The mask is the blend weight before the degradations (so not flipped)."""
    if img is None:
        img = read_rgb(face.path)
    aligned, points = crop_face(img, face, size, rng if train else None)
    real, fake, mask = sbi.self_blend(aligned, points, rng)
    real, fake = degrade.degrade_pair(real, fake, rng)
    return real, fake, mask
