"""Evaluation: metrics, typed summaries, plots, the Markdown reports and `specser compare` (predictions come from the Predictor)."""
