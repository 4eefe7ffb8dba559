"""specser: speech emotion recognition with a residual CNN on log-Mel spectrograms."""

__version__ = "0.1.0"
