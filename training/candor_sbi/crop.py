"""The face crop convention shared by training and the Rust service.

From YuNet's 5 landmarks (YuNet order: p0 image-left eye, p1 image-right eye,
p2 nose tip, p3 image-left mouth corner, p4 image-right mouth corner):

    e = (p0 + p1) / 2                    eye midpoint
    m = (p3 + p4) / 2                    mouth midpoint
    c = (e + m) / 2                      crop centre
    d = max(|p1 - p0|, |m - e|)          face scale (robust to yaw and pitch)
    a = atan2(p1.y - p0.y, p1.x - p0.x)  roll
    side = K * d, K = 3.0                square crop side in source pixels
    s = S / side                         S = output size (224 by default)

The crop is the similarity transform M (source -> crop pixels, 2x3):

    M = [[ s cos a,  s sin a, S/2 - s( cos a c.x + sin a c.y)],
         [-s sin a,  s cos a, S/2 - s(-sin a c.x + cos a c.y)]]

applied with cv2.warpAffine(img, M, (S, S), INTER_LINEAR, BORDER_REFLECT_101)
(pixel centres at integer coordinates, as OpenCV does). K = 3.0 puts the whole
MediaPipe face oval (about 2.6 d high) inside the crop with a margin, so a blend
edge at the face contour is inside the image, not on its border.
"""
import math

import cv2
import numpy as np

K = 3.0


def crop_params(lm5):
    """(centre, scale d, roll angle in radians) from a (5, 2) landmark array."""
    lm5 = np.asarray(lm5, dtype=np.float64).reshape(5, 2)
    e = (lm5[0] + lm5[1]) / 2
    m = (lm5[3] + lm5[4]) / 2
    c = (e + m) / 2
    d = max(np.linalg.norm(lm5[1] - lm5[0]), np.linalg.norm(m - e))
    a = math.atan2(lm5[1, 1] - lm5[0, 1], lm5[1, 0] - lm5[0, 0])
    return c, d, a


def crop_matrix(lm5, size, k=K, jitter=None):
    """2x3 source->crop matrix. jitter = (dx, dy, dscale, dangle) perturbs the
    crop (training only): dx, dy in units of d, dscale a factor, dangle radians."""
    c, d, a = crop_params(lm5)
    if jitter is not None:
        dx, dy, ds, da = jitter
        c = c + np.array([dx, dy]) * d
        d = d * ds
        a = a + da
    s = size / (k * d)
    ca, sa = math.cos(a), math.sin(a)
    return np.array(
        [
            [s * ca, s * sa, size / 2 - s * (ca * c[0] + sa * c[1])],
            [-s * sa, s * ca, size / 2 - s * (-sa * c[0] + ca * c[1])],
        ],
        dtype=np.float64,
    )


def warp(img, matrix, size):
    return cv2.warpAffine(
        img, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def transform_points(pts, matrix):
    pts = np.asarray(pts, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def aligned_crop(img, lm5, size=224, k=K):
    """The inference crop: exactly what the Rust service must reproduce."""
    return warp(img, crop_matrix(lm5, size, k), size)
