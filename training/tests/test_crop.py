"""The crop convention the Rust service reproduces (numpy + OpenCV only)."""
import math

import numpy as np

from candor_sbi import crop

LM = np.array([[80.0, 90.0], [140.0, 100.0], [112.0, 130.0], [88.0, 160.0], [136.0, 168.0]])


def test_matrix_maps_centre_scale_and_roll():
    size = 224
    m = crop.crop_matrix(LM, size)
    c, d, a = crop.crop_params(LM)
    assert np.allclose(crop.transform_points(c[None], m)[0], [size / 2, size / 2])
    eyes = crop.transform_points(LM[:2], m)
    assert abs(eyes[0, 1] - eyes[1, 1]) < 1e-9  # roll removed: eyes level
    # d source pixels become size / K crop pixels
    e, mo = LM[:2].mean(0), LM[3:].mean(0)
    assert math.isclose(d, max(np.linalg.norm(LM[1] - LM[0]), np.linalg.norm(mo - e)))
    assert math.isclose(np.linalg.norm(eyes[1] - eyes[0]), np.linalg.norm(LM[1] - LM[0]) * size / (crop.K * d))


def test_warp_follows_matrix():
    # A bright dot in the source lands where transform_points says.
    img = np.zeros((240, 240, 3), np.uint8)
    img[150:153, 100:103] = 255
    m = crop.crop_matrix(LM, 160)
    out = crop.aligned_crop(img, LM, 160)
    ys, xs = np.nonzero(out[..., 0] > 60)
    want = crop.transform_points([[101.0, 151.0]], m)[0]
    assert np.allclose([xs.mean(), ys.mean()], want, atol=0.6)


def test_border_is_reflected_not_black():
    img = np.full((100, 100, 3), 200, np.uint8)
    lm = LM * 100 / 240
    out = crop.aligned_crop(img, lm, 128)
    assert out.min() == 200  # the crop runs past the image; no constant fill


def test_golden_matrix():
    # The worked example in README.md; the Rust port checks against the same numbers.
    want = [[1.066954, 0.177826, -29.460319], [-0.177826, 1.066954, -6.431895]]
    assert np.allclose(crop.crop_matrix(LM, 224), want, atol=1e-6)
