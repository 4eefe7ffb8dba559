"""Feature front-ends: torch log-Mel (native mode), PNG images (paper mode), MFCC (baselines)."""
