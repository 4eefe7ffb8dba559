"""Using a trained model: the Predictor, long-recording segmentation and input expansion.

Nothing here imports Lightning, scikit-learn or librosa: `specser predict` and the service
start with torch, soundfile and soxr only.
"""
