"""Webcam-like degradations, drawn once per pair and applied identically to the
real and its pseudo-fake, so they carry no label information."""
import cv2
import numpy as np


def draw_params(rng, size):
    """Random degradation parameters; None disables a step."""
    return {
        "downscale": rng.uniform(0.4, 1.0) if rng.random() < 0.5 else None,
        "blur_sigma": rng.uniform(0.3, 1.5) if rng.random() < 0.3 else None,
        "noise_sigma": rng.uniform(1.0, 6.0) if rng.random() < 0.3 else None,
        "noise_seed": int(rng.integers(2**31)),
        "jpeg_quality": int(rng.integers(30, 96)) if rng.random() < 0.8 else None,
        "flip": bool(rng.random() < 0.5),
    }


def apply(img, p):
    size = img.shape[0]
    x = img
    if p["flip"]:
        x = x[:, ::-1].copy()
    if p["downscale"] is not None:
        small = max(16, int(round(size * p["downscale"])))
        x = cv2.resize(x, (small, small), interpolation=cv2.INTER_AREA)
        x = cv2.resize(x, (size, size), interpolation=cv2.INTER_LINEAR)
    if p["blur_sigma"] is not None:
        x = cv2.GaussianBlur(x, (0, 0), p["blur_sigma"])
    if p["noise_sigma"] is not None:
        noise = np.random.default_rng(p["noise_seed"]).normal(0, p["noise_sigma"], x.shape)
        x = np.clip(np.round(x.astype(np.float32) + noise), 0, 255).astype(np.uint8)
    if p["jpeg_quality"] is not None:
        bgr = cv2.cvtColor(x, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, p["jpeg_quality"]])
        assert ok
        x = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return x


def degrade_pair(real, fake, rng):
    p = draw_params(rng, real.shape[0])
    return apply(real, p), apply(fake, p)
