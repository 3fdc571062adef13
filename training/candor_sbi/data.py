"""Face records (image path, 5 landmarks, 468-point mesh, split, weight) and
the (real, pseudo-fake) pair generator. numpy + OpenCV only."""
import csv
import lzma
import math
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
# Training crop jitter (crop_face), shared with reach_box: centre in units of d,
# scale factor, roll in radians.
CENTRE_JITTER, SCALE_JITTER, ROLL_JITTER = 0.05, (0.93, 1.07), 0.1


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


def studio_face(root, row, mesh):
    """One train-faces row as a Face: grouped by source:identity, greyscale
    crops weighted GREY_WEIGHT."""
    w = GREY_WEIGHT if row["grayscale"] == "1" else 1.0
    group = f"{row['source']}:{row['identity']}"
    return Face(os.path.join(root, row["file"]), _lm5(row), mesh, row["split"], group, w)


def load_studio(root, mesh_npz):
    """Studio crops (train-faces). They ship without a mesh: mesh_npz comes from
    `python -m candor_sbi.mesh`; crops without one are left out."""
    meshes = _meshes(mesh_npz)
    rows = _read_tsv(os.path.join(root, "landmarks.tsv"))
    return [studio_face(root, r, meshes[r["file"]]) for r in rows if r["file"] in meshes]


def load_pack(pack):
    """Faces of a training pack (pack.py): faces.tsv and the meshes, in one order."""
    rows = _read_tsv(os.path.join(pack, "faces.tsv"))
    meshes = read_meshes(os.path.join(pack, MESH_FILE), len(rows))
    return [
        Face(os.path.join(pack, r["file"]), _lm5(r), m, r["split"], r["group"], float(r["weight"]))
        for r, m in zip(rows, meshes)
    ]


# Pack meshes: float16 (N, 468, 2), high and low byte planes apart, then lzma.
# Lossless, and a third smaller than the npz's deflate.
MESH_FILE = "mesh468.f16.xz"


def write_meshes(path, meshes):
    bits = np.ascontiguousarray(np.asarray(meshes, np.float16)).view(np.uint16)
    planes = np.stack([bits >> 8, bits & 0xFF]).astype(np.uint8)
    with open(path, "wb") as f:
        f.write(lzma.compress(planes.tobytes(), preset=9 | lzma.PRESET_EXTREME))


def read_meshes(path, n):
    with open(path, "rb") as f:
        planes = np.frombuffer(lzma.decompress(f.read()), np.uint8).reshape(2, n, 468, 2)
    bits = (planes[0].astype(np.uint16) << 8) | planes[1]
    return bits.view(np.float16).astype(np.float64)


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
        jitter = (*rng.uniform(-CENTRE_JITTER, CENTRE_JITTER, 2), rng.uniform(*SCALE_JITTER),
                  rng.uniform(-ROLL_JITTER, ROLL_JITTER))
    m = crop.crop_matrix(face.lm5, size, jitter=jitter)
    return crop.warp(img, m, size), crop.transform_points(face.mesh, m)


def reach_box(lm5, shape):
    """(x0, y0, x1, y1): the part of an image of this shape that crop_face can
    sample, at any jitter, size and with OpenCV's reflection at the borders.
    Cutting the image to it (and shifting lm5 and mesh by x0, y0) leaves every
    crop unchanged, so the pack stores only this part."""
    c, d, a = crop.crop_params(lm5)
    half = crop.K * d * SCALE_JITTER[1] / 2
    turn = max(abs(math.cos(t)) + abs(math.sin(t)) for t in np.linspace(a - ROLL_JITTER, a + ROLL_JITTER, 41))
    # +2 px: the bilinear neighbour, and the roll maximum between the sampled angles
    reach = half * turn + CENTRE_JITTER * d + 2
    x = _reach_axis(c[0] - reach, c[0] + reach, shape[1])
    y = _reach_axis(c[1] - reach, c[1] + reach, shape[0])
    return x[0], y[0], x[1], y[1]


def _reach_axis(lo, hi, n):
    """Pixel range [a, b) sampled for coordinates lo..hi with BORDER_REFLECT_101:
    a side the crop runs past keeps its border, and reaches as far in as the
    reflection does."""
    lo, hi = math.floor(lo), math.ceil(hi)
    a, b = max(0, lo), min(n - 1, hi)
    if lo < 0:
        b = max(b, min(n - 1, -lo))
    if hi > n - 1:
        a = min(a, max(0, 2 * (n - 1) - hi))
    return a, b + 1


def make_pair(face, size, rng, train=True, img=None):
    """(real, fake, mask): both images RGB uint8 (size, size, 3), degraded alike.
    The mask is the blend weight before the degradations (so not flipped)."""
    if img is None:
        img = read_rgb(face.path)
    aligned, points = crop_face(img, face, size, rng if train else None)
    real, fake, mask = sbi.self_blend(aligned, points, rng)
    real, fake = degrade.degrade_pair(real, fake, rng)
    return real, fake, mask
