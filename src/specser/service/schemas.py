"""Response bodies of the API, as pydantic models: they document `/v1/predict` (and its errors) in the
OpenAPI schema. Probabilities have one shape everywhere, at the top level, in the timeline and in the
CLI's JSON: an object from label to probability, in the model's label order (`labels`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from specser.audio.formats import FORMAT_NAMES


class Window(BaseModel):
    """One window of a long recording; a window without speech has status `no_speech` and no label."""

    start_s: float
    end_s: float
    status: str = Field(description="`ok`, or `no_speech` for a window with nothing to classify")
    label: str | None
    probabilities: dict[str, float] | None


class Warning(BaseModel):
    """Something about the recording that makes the label less reliable; the label is still given."""

    kind: str = Field(description="`clipped` (recorded too loud), `narrow_band` (a phone call, 8 kHz audio), "
                                  "`separate_parties` (channels that each hold a voice of their own, as a call "
                                  "recorded one party per channel; `?channel=N` labels one), `few_bits` (an "
                                  "8-bit or coarser file whose quiet speech keeps only a few levels) or "
                                  "`unfamiliar` (unlike the recordings the model learned from: another language, "
                                  "voice or recording chain)")
    message: str = Field(description="The same, for people, with what to do about it")
    channels: list[int] | None = Field(None, description="`separate_parties` only: the channels (1-based) that "
                                                         "each hold a voice")


class Prediction(BaseModel):
    labels: list[str] = Field(description="The model's labels, in order")
    label: str = Field(description="The most probable label (for long audio, of the averaged windows)")
    probabilities: dict[str, float] = Field(description="Probability of every label, summing to 1")
    duration_s: float
    warnings: list[Warning] = Field(description="Empty for a recording the model reads well")
    timeline: list[Window] | None = Field(None, description="Only for audio longer than one window plus one hop")
    profile: str | None = Field(None, description="The voice profile the model was adapted with, when one was named")


class ChannelPrediction(BaseModel):
    """One channel of a recording, labelled on its own: a prediction, or the reason it has none."""

    channel: int | None = Field(description="1 = left, 2 = right...; null for a mono recording")
    label: str | None = Field(None, description="Absent when the channel has nothing to classify (`error`)")
    probabilities: dict[str, float] | None = None
    duration_s: float | None = None
    warnings: list[Warning] | None = None
    timeline: list[Window] | None = Field(None, description="Only for audio longer than one window plus one hop")
    error: str | None = Field(None, description="Why this channel has no label: too_short, no_speech, silent, "
                                                "... as in a 422 (a party who never spoke: `silent`)")
    detail: str | None = None


class ChannelPredictions(BaseModel):
    labels: list[str] = Field(description="The model's labels, in order")
    channels: list[ChannelPrediction] = Field(description="One entry per channel, in order")
    profile: str | None = Field(None, description="The voice profile the model was adapted with, when one was named")


class Skipped(BaseModel):
    """A recording left out of a voice profile, and why."""

    name: str
    error: str = Field(description="As in a 422: too_short, no_speech, silent, truncated, corrupt, too_long, empty, "
                                   "unsupported_media_type")
    detail: str


class Profile(BaseModel):
    profile: str = Field(description="The profile's name: pass it as `?profile=` to /v1/predict. Keep it: it cannot "
                                     "be listed or recovered")
    recordings: int = Field(description="Recordings that went into the profile")
    inputs: int = Field(description="Clips or windows of speech that adapted the model (a long recording gives one "
                                    "per window of the model's clip length)")
    seconds: float
    created: str
    skipped: list[Skipped] = Field([], description="Uploads that were left out, each with its reason")


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong, for programs: e.g. too_short, no_speech, silent, truncated, "
                                   "corrupt, too_long, empty, too_large, unsupported_media_type, no_file")
    detail: str = Field(description="The same, for people")


ERROR_RESPONSES = {
    400: {"model": ErrorBody, "description": "No file in the request, or an empty one"},
    413: {"model": ErrorBody, "description": "The upload is larger than the service's limit"},
    415: {"model": ErrorBody, "description": f"Not a {FORMAT_NAMES} file"},
    422: {"model": ErrorBody, "description": "Audio with nothing to classify; `error` names why"},
}
PROFILE_ERRORS = {
    404: {"model": ErrorBody, "description": "No voice profile of that name (`unknown_profile`)"},
    501: {"model": ErrorBody, "description": "The served model cannot take voice profiles (`profiles_unavailable`)"},
}
