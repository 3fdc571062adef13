"""Self-blended images (Shiohara & Yamasaki, CVPR 2022) on aligned crops.

A pseudo-fake is one real image blended into itself: a jittered copy (the
source) is pasted over the original (the target) through a soft face mask.
Only numpy and OpenCV; all randomness comes from the numpy Generator passed in.
"""
import cv2
import numpy as np

BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)  # as in the paper's dynamic_blend


def hull_mask(points, size):
    """Filled convex hull of points (N, 2) as a float32 {0, 1} mask."""
    mask = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(np.float32)


def deform_points(points, rng):
    """Landmark deformation: anisotropic scaling about the centroid plus smooth
    per-point jitter, so the hull outline changes from pair to pair."""
    c = points.mean(0)
    span = np.ptp(points, axis=0).mean()
    scale = rng.uniform([0.85, 0.85], [1.03, 1.03])
    jitter = rng.normal(0, 0.01 * span, size=points.shape)
    return c + (points - c) * scale + jitter


def elastic(mask, rng, amplitude):
    """Elastic deformation: a coarse random displacement field, upsampled."""
    size = mask.shape[0]
    grid = rng.normal(0, amplitude, size=(2, 5, 5)).astype(np.float32)
    dx = cv2.resize(grid[0], (size, size), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(grid[1], (size, size), interpolation=cv2.INTER_CUBIC)
    xs, ys = np.meshgrid(np.arange(size, dtype=np.float32), np.arange(size, dtype=np.float32))
    out = cv2.remap(mask, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return (out > 0.5).astype(np.float32)


def random_affine(size, rng, shift=0.03, scale=(0.95, 1 / 0.95)):
    """Small scale/translate about the centre (the paper's source misalignment)."""
    s = rng.uniform(*scale)
    tx, ty = rng.uniform(-shift, shift, 2) * size
    c = size / 2
    return np.array([[s, 0, c - s * c + tx], [0, s, c - s * c + ty]], np.float64)


def blend_mask(points, size, rng, src_affine=None):
    """Soft blend mask in [0, 1] from face mesh points in crop pixels.

    hull -> landmark deformation -> (source affine) -> elastic -> erode/dilate
    -> clip to an inner square -> Gaussian blur -> blend ratio. The clip margin
    exceeds the blur radius, so the mask is exactly 0 on the crop border."""
    sigma = rng.uniform(0.005, 0.02) * size
    radius = int(np.ceil(3 * sigma))
    mask = hull_mask(deform_points(points, rng), size)
    if src_affine is not None:
        mask = cv2.warpAffine(mask, src_affine, (size, size), flags=cv2.INTER_NEAREST)
    if rng.random() < 0.5:
        mask = elastic(mask, rng, amplitude=0.015 * size)
    r = int(rng.integers(0, max(2, int(0.04 * size))))
    if r > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        op = cv2.erode if rng.random() < 0.5 else cv2.dilate
        mask = op(mask, kernel)
    margin = radius + 2
    clipped = np.zeros_like(mask)
    clipped[margin:-margin, margin:-margin] = mask[margin:-margin, margin:-margin]
    mask = cv2.GaussianBlur(clipped, (2 * radius + 1, 2 * radius + 1), sigma)
    return mask * float(rng.choice(BLEND_RATIOS))


def colour_jitter(img, rng):
    """One of: RGB shift, hue/saturation/value, brightness/contrast (RGB uint8)."""
    x = img.astype(np.float32)
    kind = rng.integers(3)
    if kind == 0:
        x = x + rng.uniform(-20, 20, 3).astype(np.float32)
    elif kind == 1:
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-10, 10)) % 180
        hsv[..., 1] *= rng.uniform(0.7, 1.3)
        hsv[..., 2] *= rng.uniform(0.7, 1.3)
        hsv = np.clip(hsv, 0, [179, 255, 255]).astype(np.uint8)
        x = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32)
    else:
        alpha = 1 + rng.uniform(-0.1, 0.1)  # contrast
        beta = rng.uniform(-0.1, 0.1) * 255  # brightness
        x = (x - 127.5) * alpha + 127.5 + beta
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def frequency_jitter(img, rng):
    """One of: sharpen, Gaussian blur, downscale+upscale."""
    kind = rng.integers(3)
    if kind == 0:
        alpha = rng.uniform(0.2, 0.5)
        blur = cv2.GaussianBlur(img, (0, 0), 1.0).astype(np.float32)
        x = img.astype(np.float32) * (1 + alpha) - blur * alpha
        return np.clip(np.round(x), 0, 255).astype(np.uint8)
    if kind == 1:
        return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.2))
    size = img.shape[0]
    small = max(8, int(size * rng.uniform(0.5, 0.9)))
    x = cv2.resize(img, (small, small), interpolation=cv2.INTER_AREA)
    return cv2.resize(x, (size, size), interpolation=cv2.INTER_LINEAR)


def source_target_jitter(img, rng):
    x = colour_jitter(img, rng)
    return frequency_jitter(x, rng)


def self_blend(img, points, rng):
    """(real, fake, mask) from an aligned RGB uint8 crop and its mesh points.

    As in the paper, the colour/frequency jitter goes to the source or to the
    target at random; the returned real is the target, so fake == real wherever
    mask == 0."""
    size = img.shape[0]
    source, target = img, img
    if rng.random() < 0.5:
        source = source_target_jitter(img, rng)
    else:
        target = source_target_jitter(img, rng)
    affine = random_affine(size, rng)
    source = cv2.warpAffine(
        source, affine, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    mask = blend_mask(points, size, rng, src_affine=affine)
    m = mask[..., None]
    fake = m * source.astype(np.float32) + (1 - m) * target.astype(np.float32)
    fake = np.clip(np.round(fake), 0, 255).astype(np.uint8)
    return target.copy(), fake, mask
