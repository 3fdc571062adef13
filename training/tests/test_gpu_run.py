"""The one-shot GPU run, end to end on CPU: a tiny pack built by the pack code,
then `python3 -m candor_sbi.gpu_run --tiny` as the device would run it
(skipped where torch is not installed)."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from candor_sbi import data, pack  # noqa: E402

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET_S = 60
FIELDS = ("command", "seed", "pack_sha256", "device", "gpu", "torch", "n_train", "n_val", "epochs",
          "epoch0", "best_epoch", "best", "gate_passed", "images_seen", "train_s", "wall_s", "onnx")


def test_tiny_cpu_run_trains_exports_and_logs(dfdc_faces, tmp_path):
    if not os.path.exists(pack.STUDIO_MESH):
        pytest.skip(f"no studio mesh cache {pack.STUDIO_MESH} (scripts/train mesh)")
    pack_dir, out = str(tmp_path / "pack"), str(tmp_path / "out")
    digest = pack.build(pack_dir, os.path.dirname(dfdc_faces[0].path), os.path.join(data.DATA_DIR, "train-faces"),
                        limit=12)
    env = dict(os.environ, PYTHONPATH=TRAINING, OUT=out)
    cmd = [sys.executable, "-m", "candor_sbi.gpu_run", "--pack", pack_dir, "--budget-s", str(BUDGET_S),
           "--tiny", "--device", "cpu", "--workers", "1"]
    run = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=BUDGET_S + 60)
    assert run.returncode == 0, run.stderr[-3000:]
    with open(os.path.join(out, "log.json")) as f:
        log = json.load(f)
    assert all(k in log for k in FIELDS), [k for k in FIELDS if k not in log]
    assert log["pack_sha256"] == digest and log["device"] == "cpu"
    assert log["architecture"].startswith(pack_dir)  # the pack's copy, not the venv's
    assert log["n_train"] == 24 and log["n_val"] == 16  # 12 per set and split; --tiny keeps 16 val
    assert log["epochs"] and all(r["train_loss"] > 0 for r in log["epochs"])
    assert log["images_seen"] == sum(r["steps"] for r in log["epochs"]) * 16
    assert log["onnx"]["check_passed"] and log["onnx"]["max_abs_diff"] <= 1e-4
    assert os.path.getsize(os.path.join(out, "model.onnx")) > 1e6
    assert log["wall_s"] < BUDGET_S + 10  # the budget holds, export included
