"""The one exception for a stopped training: light to import, so the CLI and the fold supervisor can catch it."""


class TrainingInterrupted(RuntimeError):
    """Training stopped early (Ctrl-C or SIGTERM); the same command resumes it from `last.ckpt`."""
