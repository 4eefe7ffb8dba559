"""scikit-learn Pipelines (scaler + classifier) and the hyper-parameter grids searched for them.

The grids are deliberately generous: a baseline that is not tuned proves nothing.
With `baseline.search=false` the first value of every entry is used (stated in the report).
"""

from __future__ import annotations

from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

BASELINE_MODELS = ("svm", "mlp")

GRIDS: dict[str, dict[str, list]] = {
    "svm": {
        "clf__C": [10.0, 1.0, 100.0, 1000.0],
        "clf__gamma": ["scale", 1e-4, 3e-4, 1e-3, 3e-3],
    },
    "mlp": {
        "clf__hidden_layer_sizes": [(512, 256), (256,)],
        "clf__alpha": [1.0, 0.1, 3.0, 10.0],
    },
}


def build_pipeline(model: str, seed: int) -> Pipeline:
    """Standardise every feature (statistics from the training part only), then classify."""
    if model == "svm":
        clf = SVC(kernel="rbf", random_state=seed)
    elif model == "mlp":
        clf = MLPClassifier(max_iter=500, early_stopping=True, validation_fraction=0.15, n_iter_no_change=20,
                            random_state=seed)
    else:
        raise ValueError(f"unknown baseline model {model!r}; choose one of {', '.join(BASELINE_MODELS)}")
    return Pipeline([("scale", StandardScaler()), ("clf", clf)])


def first_values(grid: dict[str, list]) -> dict:
    return {k: v[0] for k, v in grid.items()}
