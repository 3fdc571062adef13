"""SBI pair generation on real DFDC crops (numpy + OpenCV only, no torch)."""
import cv2
import numpy as np
import pytest

from candor_sbi import data, degrade, sbi

SIZE = 128
SEEDS = range(12)


def _aligned(face, rng=None):
    return data.crop_face(data.read_rgb(face.path), face, SIZE, rng)


@pytest.mark.parametrize("seed", SEEDS)
def test_mask_inside_face_and_zero_on_border(dfdc_faces, seed):
    face = dfdc_faces[seed * 97]
    rng = np.random.default_rng(seed)
    img, pts = _aligned(face, rng)
    _, _, mask = sbi.self_blend(img, pts, rng)
    assert mask.max() > 0.2
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    assert border.max() == 0
    hull = sbi.hull_mask(pts, SIZE)
    # Most of the blend weight lies in the hull of the face mesh; the rest is the
    # paper's deformations (shift, elastic, dilation, blur), a bounded distance out.
    assert mask[hull > 0].sum() / mask.sum() > 0.75
    outside = cv2.distanceTransform((1 - hull).astype(np.uint8), cv2.DIST_L2, 5)
    assert outside[mask > 0].max() < 0.22 * SIZE


@pytest.mark.parametrize("seed", SEEDS)
def test_fake_differs_from_real_only_inside_mask(dfdc_faces, seed):
    face = dfdc_faces[seed * 89 + 5]
    rng = np.random.default_rng(seed)
    img, pts = _aligned(face, rng)
    real, fake, mask = sbi.self_blend(img, pts, rng)
    diff = np.abs(real.astype(int) - fake.astype(int)).max(axis=2)
    assert diff[mask == 0].max() == 0
    assert (diff[mask > 0.2] > 0).mean() > 0.3  # and the blend did change the face


def test_make_pair_is_deterministic_under_a_seed(dfdc_faces):
    face = dfdc_faces[3]
    a = data.make_pair(face, SIZE, np.random.default_rng(7))
    b = data.make_pair(face, SIZE, np.random.default_rng(7))
    c = data.make_pair(face, SIZE, np.random.default_rng(8))
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert not np.array_equal(a[1], c[1])


def test_degradation_is_shared_by_real_and_fake(dfdc_faces):
    img, _ = _aligned(dfdc_faces[11])
    for seed in range(8):
        r, f = degrade.degrade_pair(img, img.copy(), np.random.default_rng(seed))
        assert np.array_equal(r, f)  # same params, same noise: no label leak
    p = degrade.draw_params(np.random.default_rng(0), SIZE)
    p.update(jpeg_quality=30, downscale=0.5, flip=False)
    assert not np.array_equal(degrade.apply(img, p), img)


def test_splits_are_disjoint_by_identity(dfdc_faces):
    train = {f.group for f in dfdc_faces if f.split == "train"}
    val = {f.group for f in dfdc_faces if f.split == "val"}
    assert val and train and not (train & val)
