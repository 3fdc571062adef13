"""Training step and ONNX export (skipped where torch is not installed)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")

from candor_sbi import data  # noqa: E402
from candor_sbi.model import Detector  # noqa: E402
from candor_sbi.train import collate, train_step  # noqa: E402

SIZE = 96


def _batch(faces, n=4, seed=0):
    rng = np.random.default_rng(seed)
    items = []
    for f in faces[:n]:
        real, fake, _ = data.make_pair(f, SIZE, rng)
        items.append((real, fake, np.float32(f.weight)))
    return collate(items)


def test_one_training_step_changes_weights(dfdc_faces):
    torch.manual_seed(0)
    model = Detector(SIZE, pretrained=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y, w = _batch(dfdc_faces)
    assert x.shape == (8, 3, SIZE, SIZE) and y.tolist() == [0] * 4 + [1] * 4
    loss = train_step(model, opt, x, y, w)
    assert np.isfinite(loss)
    after = model.state_dict()
    changed = [k for k in before if before[k].dtype.is_floating_point and not torch.equal(before[k], after[k])]
    assert "net._fc.weight" in changed and "net._conv_stem.weight" in changed


def test_onnx_export_matches_torch(dfdc_faces, tmp_path):
    pytest.importorskip("onnxruntime")
    import onnx

    from candor_sbi.export import TOL, check, export

    torch.manual_seed(0)
    model = Detector(SIZE, pretrained=True).eval()
    path = export(model, str(tmp_path / "m.onnx"))
    assert onnx.load(path).opset_import[0].version >= 17
    x, _, _ = _batch(dfdc_faces, n=3)
    x = x.float()
    assert check(model, path, x.numpy()) < TOL
    assert check(model, path, x[:1].numpy()) < TOL  # dynamic batch
