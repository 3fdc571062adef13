"""SBI (self-blended images) training pipeline for Candor's face-swap detector.

Image code (crop, sbi, degrade, data) needs only numpy and OpenCV; model, train
and export need PyTorch.
"""
