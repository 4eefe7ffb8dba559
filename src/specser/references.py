"""Published reference figures, in one place: what reports, `specser compare` and benchmarks compare to.

None of these was measured here. Each carries where it comes from, so a report can say so.
Fractions, not percent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    """One published figure (WA unless `metric` says otherwise)."""

    model: str
    protocol: str  # a specser protocol name, or the closest one
    label_set: str
    value: float
    std: float | None = None
    n_folds: int | None = None
    source: str = ""


# The source paper (Spec-ResNet, 2025): 5-fold CV accuracy; its split is not stated.
PAPER_CV = Reference("Spec-ResNet (paper's claim)", "random-5fold", "ravdess6", 0.915, 0.008, 5,
                     "source paper: 5-fold CV, split not stated")
PAPER_HOLDOUT_ACCURACY = 0.92
# The paper's Table 2 (per class, %): F1, precision, recall.
PAPER_TABLE2 = {
    "neutral": (92, 90, 93), "happy": (92, 94, 94), "sad": (92, 94, 89),
    "angry": (91, 94, 89), "fearful": (93, 97, 96), "surprised": (90, 85, 96),
}
# Earlier work the paper cites (protocols not stated).
MFCC_MLP = Reference("MFCC + MLP (cited by the paper)", "random-5fold", "ravdess6", 0.83, None, None,
                     "Qurniaty & Kusnawi 2023, protocol not stated")
MFCC_SVM = Reference("MFCC + SVM (cited by the paper)", "random-5fold", "ravdess6", 0.82, None, None,
                     "cited by the paper, protocol not stated")
# EmoBox leaderboard, RAVDESS, 8 classes, its fixed actor folds (frozen encoders, light heads), WA.
EMOBOX_RAVDESS_WA = {
    "Whisper-large-v3": 0.7587, "WavLM-large": 0.7222, "HuBERT-large": 0.7029,
    "HuBERT-base": 0.6621, "WavLM-base": 0.6210, "wav2vec2-base": 0.5540,
}
EMOBOX_BEST = Reference("Whisper-large-v3, frozen (EmoBox best)", "emobox", "ravdess8",
                        EMOBOX_RAVDESS_WA["Whisper-large-v3"], None, 6, "EmoBox leaderboard")
# Livingstone & Russo (2018): human raters, RAVDESS audio-only speech.
HUMAN_RAVDESS_AUDIO = 0.62

# The rows `specser compare` shows beside measured runs.
COMPARISON_ROWS = (PAPER_CV, MFCC_MLP, MFCC_SVM, EMOBOX_BEST)


def pct(value: float) -> str:
    """0.915 -> "91.5", 0.92 -> "92", 0.7587 -> "75.87"."""
    return f"{100 * value:.4g}"


def reference_figures(model: str, protocol: str) -> dict[str, str]:
    """The published figures a run of `model` on `protocol` should be read against, as report text."""
    if protocol == "emobox":
        return {"accuracy": f"EmoBox leaderboard best: {pct(EMOBOX_BEST.value)} % (frozen Whisper-large-v3, 8 classes)",
                "uar": "see the EmoBox leaderboard", "macro_f1": "see the EmoBox leaderboard"}
    if "MLP" in model:
        return {"accuracy": f"{pct(MFCC_MLP.value)} % (MFCC + MLP, earlier work the paper cites; protocol not stated)"}
    if "SVM" in model:
        return {"accuracy": f"{pct(MFCC_SVM.value)} % (MFCC + SVM, earlier work the paper cites; protocol not stated)"}
    return {"accuracy": f"{pct(PAPER_CV.value)} ± {pct(PAPER_CV.std)} % (paper's 5-fold CV; "
                        f"{pct(PAPER_HOLDOUT_ACCURACY)} % holdout; split not stated)",
            "uar": "not reported", "macro_f1": "92 % (paper, holdout)"}
