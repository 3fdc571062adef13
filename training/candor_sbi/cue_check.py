"""What the pack's re-encoding of the studio crops (cut to data.reach_box, JPEG
q90) does to the SBI blend cues. For each face and seed, the same pseudo-fake
(same mask, jitter and blend) is made from the original crop and from the
re-encoded one, without the shared degradations, and the residual
fake - real of the two is compared.

    python -m candor_sbi.cue_check [--faces 20] [--seeds 3]
"""
import argparse
import os

import cv2
import numpy as np

from . import data, pack, sbi

SIZE = 224


def reencoded(face):
    """(image, face) as the pack stores them."""
    img = cv2.imread(face.path, cv2.IMREAD_COLOR)
    x0, y0, x1, y1 = data.reach_box(face.lm5, img.shape)
    ok, jpeg = cv2.imencode(".jpg", img[y0:y1, x0:x1],
                            [cv2.IMWRITE_JPEG_QUALITY, pack.JPEG_QUALITY, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    assert ok
    shift = np.array([x0, y0], np.float64)
    cut = data.Face(face.path, face.lm5 - shift, face.mesh - shift, face.split, face.group, face.weight)
    return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB), cut


def residual(img, face, seed):
    aligned, points = data.crop_face(img, face, SIZE)
    real, fake, mask = sbi.self_blend(aligned, points, np.random.default_rng(seed))
    return aligned, fake.astype(np.float32) - real.astype(np.float32), mask


def high_freq(r, band):
    """Mean squared Laplacian of the residual inside the mask's edge band."""
    lap = cv2.Laplacian(r, cv2.CV_32F, ksize=3)
    return float((lap[band] ** 2).mean())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--studio", default=os.path.join(data.DATA_DIR, "train-faces"))
    p.add_argument("--studio-mesh", default=pack.STUDIO_MESH)
    p.add_argument("--faces", type=int, default=20)
    p.add_argument("--seeds", type=int, default=3)
    args = p.parse_args(argv)
    faces = [f for f in data.load_studio(args.studio, args.studio_mesh) if f.weight == 1.0]  # colour, as packed
    faces = faces[:: max(1, len(faces) // args.faces)][: args.faces]
    pix, sig, diff, hf_a, hf_b = [], [], [], [], []
    for i, face in enumerate(faces):
        img_b, face_b = reencoded(face)
        img_a = data.read_rgb(face.path)
        for seed in range(args.seeds):
            crop_a, ra, mask = residual(img_a, face, [i, seed])
            crop_b, rb, mask_b = residual(img_b, face_b, [i, seed])
            assert np.allclose(mask, mask_b)  # same blend: only the pixels differ
            inside, band = mask > 0.02, (mask > 0.05) & (mask < 0.95)
            pix.append(np.abs(crop_a.astype(np.float32) - crop_b).mean())
            sig.append(np.abs(ra[inside]).mean())
            diff.append(np.abs(ra - rb)[inside].mean())
            hf_a.append(high_freq(ra, band))
            hf_b.append(high_freq(rb, band))
    n = len(sig)
    print(f"{len(faces)} colour studio faces x {args.seeds} seeds = {n} pairs at {SIZE} px")
    print(f"aligned crop, mean |original - re-encoded|: {np.mean(pix):.2f} grey levels")
    print(f"residual fake - real inside the mask, mean |r|: {np.mean(sig):.2f}; "
          f"mean |r_original - r_re-encoded|: {np.mean(diff):.2f} ({100 * np.mean(diff) / np.mean(sig):.1f} %)")
    ratio = np.array(hf_b) / np.array(hf_a)
    print(f"high-frequency energy of r at the mask edge, re-encoded / original: "
          f"median {np.median(ratio):.3f} (5-95 %: {np.percentile(ratio, 5):.3f}-{np.percentile(ratio, 95):.3f})")


if __name__ == "__main__":
    main()
