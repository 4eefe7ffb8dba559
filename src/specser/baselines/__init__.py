"""Classic baselines on the same folds as Spec-ResNet: utterance features into scikit-learn."""
