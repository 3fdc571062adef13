#!/usr/bin/env python3
"""Puts every model and sample listed in models/manifest.toml in place, checked by sha256.

Each file is taken from the repository when the entry names a `committed` path (models the
project trains itself, relative to the manifest's folder), else from the mirror folder when
present there, otherwise downloaded from its `url`. A file already in place with the right hash is left alone (quiet re-runs).
A hash mismatch anywhere is a hard error naming the file.
"""

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import tomllib
import urllib.request


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def install(entry, mirror_file, out_dir):
    name, want = entry["file"], entry["sha256"]
    dest = os.path.join(out_dir, name)
    if os.path.exists(dest) and sha256_of(dest) == want:
        return
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".part-")
    os.close(fd)
    try:
        if os.path.exists(mirror_file):
            print(f"setup: copying {name} from {mirror_file}", file=sys.stderr)
            shutil.copyfile(mirror_file, tmp)
        elif entry.get("url"):
            print(f"setup: downloading {name} from {entry['url']}", file=sys.stderr)
            with urllib.request.urlopen(entry["url"], timeout=60) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f)
        else:
            raise SystemExit(
                f"setup: {name} is not in the mirror ({mirror_file}) and has no download URL; "
                f"point CANDOR_MODEL_MIRROR / CANDOR_DATA_MIRROR at a copy (upstream: {entry.get('upstream', '?')})"
            )
        got = sha256_of(tmp)
        if got != want:
            raise SystemExit(f"setup: sha256 mismatch for {name}: expected {want}, got {got}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--model-mirror", required=True)
    ap.add_argument("--data-mirror", required=True)
    ap.add_argument("--models-out", required=True)
    ap.add_argument("--samples-out", required=True)
    args = ap.parse_args()
    with open(args.manifest, "rb") as f:
        manifest = tomllib.load(f)
    here = os.path.dirname(os.path.abspath(args.manifest))
    for m in manifest.get("model", []):
        source = os.path.join(here, m["committed"]) if "committed" in m else os.path.join(args.model_mirror, m["file"])
        install(m, source, args.models_out)
    for s in manifest.get("sample", []):
        install(s, os.path.join(args.data_mirror, s["mirror_path"]), args.samples_out)


if __name__ == "__main__":
    main()
