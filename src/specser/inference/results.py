"""What a prediction returns: an overall label and, for long recordings, a timeline."""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def to_dict(self) -> dict:
        out = {"label": self.label, "probabilities": self.probabilities, "duration_s": round(self.duration_s, 3)}
        if self.timeline:
            out["timeline"] = [s.to_dict() for s in self.timeline]
        return out
