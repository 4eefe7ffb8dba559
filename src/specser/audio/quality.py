"""Is the recording one the model reads well? Warnings that go with a label, never instead of one.

The robustness benchmark (`benchmarks/robustness.py`) shows two conditions that move the bundled
model's labels far more than any noise at 20 dB SNR, yet leave speech to classify:

- clipping: a recording made too loud. With 20 dB too much gain, a nEMO clip has a median 18 % of
  its samples at full scale, and a quarter of the held-out clips change label;
- a narrow band: a phone call, or audio sampled at 8 kHz. Nothing above 4 kHz is left, and
  accuracy on held-out voices drops by about 11 points.

A third looks at the channels before they are mixed: a call recorder that puts each party on its own
channel gives two voices, and their mix is no one's emotion (`specser predict --channel` labels one).
A fourth looks at the samples before resampling: an 8-bit file of quiet speech keeps only a few
levels for it (speech peaking at -35 dBFS keeps about 2 of 8 bits), which moves more labels than
noise at 20 dB SNR does, and which no repair tried here undoes (docs/results.md).

Each check looks at the whole recording at the model's rate and has a wide margin on both sides
(`benchmarks/quality_warnings.py` measures how often each fires on clean and on degraded clips).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FULL_SCALE = 0.97  # |sample| at or above this counts as clipped: resampling makes flat tops ripple
CLIPPED_SHARE = 0.001  # clipped when at least 0.1 % of samples are at full scale
NARROW_BAND_HZ = 4000.0  # a telephone channel keeps 300-3400 Hz; 8 kHz audio stops at 4 kHz
NARROW_BAND_DB = -50.0  # energy above NARROW_BAND_HZ against 300 Hz-NARROW_BAND_HZ; clean speech: -12 to -25
_FRAME = 512
PARTY_FRAME_S = 0.05  # per-channel levels in 50 ms frames: a syllable or two
PARTY_ACTIVE_DB = -40.0  # frames within 40 dB of the recording's loudest count as sound
PARTY_DOMINANCE_DB = 20.0  # a channel that leads all others by 20 dB in a frame has that frame to itself
PARTY_SHARE = 0.1  # two channels each with 10 % of the sounding frames to themselves: separate parties
GRID_BITS = 10  # samples on a grid this coarse or coarser (up to an offset) come from a low-bit file
_GRID_SAMPLES = 4096
FEW_BITS = 4.0  # the loudest sample this many bits or fewer above the grid's step: few levels left for the speech


@dataclass(frozen=True)
class QualityWarning:
    """`kind` for programs (``clipped``, ``narrow_band``, ``separate_parties``, ``few_bits``, ``unfamiliar``),
    `message` for people."""

    kind: str
    message: str
    channels: tuple[int, ...] = ()  # separate_parties: the channels (1-based) that each carry a voice of their own

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "message": self.message}
        return {**out, "channels": list(self.channels)} if self.channels else out


def clipped_share(wave: np.ndarray, threshold: float = FULL_SCALE) -> float:
    """The share of samples at full scale (`threshold` or louder)."""
    return float(np.mean(np.abs(wave) >= threshold)) if wave.size else 0.0


def high_band_db(wave: np.ndarray, sample_rate: int) -> float | None:
    """Energy above `NARROW_BAND_HZ` relative to the band below it (300 Hz up), in dB, from the mean
    power spectrum of 512-sample frames; None when the rate leaves no room above `NARROW_BAND_HZ`
    to judge (a model at 8 kHz) or the recording is shorter than one frame."""
    if sample_rate / 2 < NARROW_BAND_HZ * 1.125 or wave.size < _FRAME:
        return None
    frames = wave[: wave.size // _FRAME * _FRAME].reshape(-1, _FRAME).astype(np.float64)
    power = np.mean(np.abs(np.fft.rfft(frames * np.hanning(_FRAME), axis=1)) ** 2, axis=0)
    freqs = np.fft.rfftfreq(_FRAME, 1 / sample_rate)
    below = power[(freqs >= 300) & (freqs < NARROW_BAND_HZ)].sum()
    above = power[freqs >= NARROW_BAND_HZ].sum()
    return float(10 * np.log10((above + 1e-30) / (below + 1e-30)))


def grid_bits(wave: np.ndarray) -> int | None:
    """The coarsest bit depth b <= `GRID_BITS` whose grid (steps of 2^-(b-1)) holds every sample up to one
    constant offset (to 1e-3 of a step), else None: a decoded 8-bit file gives 8, a 16-bit one None."""
    if wave.size < 2:
        return None
    flat, offset = wave.ravel(), float(wave.flat[0])
    # Every coarser grid lies on the GRID_BITS one, so a recording off it is off them all: samples spread over
    # the recording (leading silence sits on any grid) rule most files out at once, the whole of it next.
    spread = flat[:: max(1, flat.size // _GRID_SAMPLES)].astype(np.float64) - offset
    if not _on_grid(spread, GRID_BITS):
        return None
    steps = flat.astype(np.float64) - offset
    if not np.any(steps) or not _on_grid(steps, GRID_BITS):
        return None
    return next(bits for bits in range(1, GRID_BITS + 1) if _on_grid(steps, bits))


def _on_grid(steps: np.ndarray, bits: int) -> bool:
    scaled = steps * 2.0 ** (bits - 1)
    return bool(np.max(np.abs(scaled - np.round(scaled))) < 1e-3)


def speech_bits(wave: np.ndarray, bits: int | None = None) -> float | None:
    """For samples on a coarse grid (`grid_bits`, or the `bits` already found), the bits its loudest excursion
    from the median spans: bits + log2(peak). None off the grid. An 8-bit file peaking at -35 dBFS gives 2.2."""
    bits = grid_bits(wave) if bits is None else bits
    if bits is None:
        return None
    peak = float(np.max(np.abs(wave.astype(np.float64) - np.median(wave))))
    return bits + float(np.log2(max(peak, 2.0 ** -(bits - 1))))


def few_bits_warning(wave: np.ndarray) -> QualityWarning | None:
    """The `few_bits` warning for decoded samples at the file's own rate (before resampling, which hides the
    grid), or None."""
    depth = grid_bits(wave)
    bits = speech_bits(wave, depth) if depth is not None else None
    if bits is None or bits > FEW_BITS:
        return None
    return QualityWarning("few_bits", f"few bits: a {depth}-bit recording whose loudest sound spans about {bits:.0f} "
                                      f"bit{'s' if round(bits) != 1 else ''}, so the speech keeps only a few levels; "
                                      "the label is less reliable. Record at 16 bits, or closer to the microphone.")


def quality_warnings(wave: np.ndarray, sample_rate: int, repaired: bool = False) -> list[QualityWarning]:
    """The warnings for a model-rate recording that passed the speech check (`specser.audio.checks`);
    `repaired`: its clipped peaks were re-estimated before labelling (`specser.audio.declip`)."""
    warnings = []
    share = clipped_share(wave)
    if share >= CLIPPED_SHARE:
        repair = "its cut peaks were re-estimated before labelling, but " if repaired else ""
        warnings.append(QualityWarning("clipped", f"clipped: {100 * share:.1f} % of the samples are at full scale "
                                                  f"(recorded too loud); {repair}the label is less reliable. Record "
                                                  "again at a lower input level."))
    high = high_band_db(wave, sample_rate)
    if high is not None and high < NARROW_BAND_DB:
        warnings.append(QualityWarning("narrow_band", f"narrow band: almost nothing above {NARROW_BAND_HZ / 1000:g} "
                                                      "kHz (a phone call, or audio sampled at 8 kHz); the model is "
                                                      "less accurate on such audio."))
    return warnings


def unfamiliar_warning() -> QualityWarning:
    """The warning for a recording whose network features lie far from every class of the model's training
    clips (`specser.inference.familiarity`): another language, corpus, voice or microphone than it learned."""
    return QualityWarning("unfamiliar", "unfamiliar: the recording is unlike those the model learned from (another "
                                        "language, kind of voice or recording chain, say); on such recordings its "
                                        "labels are much less accurate. `specser adapt` fits it to your recordings.")


def separate_parties(data: np.ndarray, sample_rate: int) -> tuple[int, ...]:
    """The channels (1-based) of a (frames, channels) recording that each hold sound the others do not:
    empty for mono, for a stereo microphone (the channels differ by a few dB), for a dead or an inverted
    channel. A call recorded one party per channel has each party's turns at full level on its channel
    and near silence on the other, so the level difference between the channels swings by tens of dB
    one way, then the other."""
    if data.ndim != 2 or data.shape[1] < 2:
        return ()
    frame = max(1, int(PARTY_FRAME_S * sample_rate))
    n = data.shape[0] // frame
    if n < 2:
        return ()
    frames = data[: n * frame].reshape(n, frame, data.shape[1])  # a view: an hour of stereo is not copied
    power = np.einsum("nfc,nfc->nc", frames, frames).astype(np.float64) / frame
    level = 10 * np.log10(power + 1e-20)  # (n, channels) dB
    loudest = level.max(axis=1)
    sounding = loudest >= loudest.max() + PARTY_ACTIVE_DB
    ranked = np.sort(level, axis=1)
    alone = sounding & (ranked[:, -1] - ranked[:, -2] >= PARTY_DOMINANCE_DB)  # one channel leads all others
    owners = np.argmax(level, axis=1)[alone]
    shares = np.bincount(owners, minlength=data.shape[1]) / max(1, int(sounding.sum()))
    parties = tuple(int(c) + 1 for c in np.flatnonzero(shares >= PARTY_SHARE))
    return parties if len(parties) >= 2 else ()


def parties_warning(parties: tuple[int, ...]) -> QualityWarning:
    """The warning for a recording whose `parties` channels each carry a voice of their own."""
    names = ", ".join(str(c) for c in parties[:-1]) + f" and {parties[-1]}"
    return QualityWarning("separate_parties", f"separate voices: channels {names} each hold a voice the others do "
                                              "not (a call recorded one party per channel?); the label is for "
                                              "their mix. Label one party with --channel N, or each with --each-channel "
                                              "(API: ?channel=N).",
                          parties)
