"""Evaluation: metrics, batch inference on prepared inputs, plots and the Markdown report."""
