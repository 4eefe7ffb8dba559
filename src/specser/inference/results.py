"""What a prediction returns: an overall label, warnings about the recording and, for long recordings,
a timeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from specser.audio.quality import QualityWarning


@dataclass
class Segment:
    """One window of a long recording. A window without speech has status ``no_speech`` and no label."""

    start_s: float
    end_s: float
    label: str | None
    probabilities: dict[str, float] | None
    status: str = "ok"

    def to_dict(self) -> dict:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3), "status": self.status,
                "label": self.label, "probabilities": self.probabilities}


@dataclass
class Prediction:
    label: str
    probabilities: dict[str, float]
    duration_s: float
    timeline: list[Segment] = field(default_factory=list)  # empty for clips that fit one window
    warnings: list[QualityWarning] = field(default_factory=list)  # clipped, narrow band: the label is less sure

    def to_dict(self) -> dict:
        out = {"label": self.label, "probabilities": self.probabilities, "duration_s": round(self.duration_s, 3),
               "warnings": [w.to_dict() for w in self.warnings]}
        if self.timeline:
            out["timeline"] = [s.to_dict() for s in self.timeline]
        return out
