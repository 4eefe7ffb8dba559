"""Training with PyTorch Lightning. Inference code must never import this package."""
