"""Recording conditions a user's audio meets, applied to clean speech: noise, level, quantisation,
telephone band, a small microphone's bass roll-off, lossy codecs (Opus, a voice memo's AAC, a mobile call's AMR), a room, a compressor, silence around the speech, a DC offset,
mains hum, stereo with one channel inverted, a knock or a thud, low rumble. For the robustness benchmark
(`specser evaluate --conditions`) and for augmentation. Every function takes and returns mono float32 at `sample_rate`; randomness
comes from the `rng` passed in, so a condition is the same on every run.
"""

from __future__ import annotations

import io
from typing import Callable

import numpy as np

from specser.audio.load import downmix


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise by shaping white noise's spectrum, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    noise = np.fft.irfft(spectrum, n)
    return noise / _rms(noise)


def add_noise(wave: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`noise` (tiled or cut to length) scaled to `snr_db` below the speech's RMS."""
    noise = np.resize(noise, wave.size)
    return wave + noise * (_rms(wave) / _rms(noise) / 10 ** (snr_db / 20))


def noise_floor(wave: np.ndarray, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at an absolute level (RMS in dBFS), as an idle microphone adds."""
    return wave + rng.standard_normal(wave.size) * 10 ** (dbfs / 20)


def gain(wave: np.ndarray, db: float) -> np.ndarray:
    """Level change, clipped at full scale as a recorder would."""
    return np.clip(wave * 10 ** (db / 20), -1.0, 1.0)


def compress(wave: np.ndarray, sample_rate: int, ratio: float, below_peak_db: float) -> np.ndarray:
    """A compressor or automatic gain control: a 5 ms-attack, 50 ms-release peak follower; above a
    threshold `below_peak_db` under the clip's peak the level is divided by `ratio`; the peak is then
    restored (make-up gain)."""
    x = wave.astype(np.float64)
    attack, release = np.exp(-1 / (0.005 * sample_rate)), np.exp(-1 / (0.05 * sample_rate))
    envelope = np.empty_like(x)
    level = 0.0
    for i, a in enumerate(np.abs(x)):  # a recursive follower: attack when rising, release when falling
        c = attack if a > level else release
        level = c * level + (1 - c) * a
        envelope[i] = level
    env_db = 20 * np.log10(envelope + 1e-12)
    over = np.maximum(env_db - (20 * np.log10(np.max(np.abs(x)) + 1e-12) - below_peak_db), 0.0)
    squeezed = x * 10 ** (-over * (1 - 1 / ratio) / 20)
    return (squeezed * np.max(np.abs(x)) / max(np.max(np.abs(squeezed)), 1e-12)).astype(wave.dtype)


def surround(wave: np.ndarray, sample_rate: int, before_s: float, after_s: float, rng: np.random.Generator) -> np.ndarray:
    """The clip with a quiet room before and after it: `before_s` and `after_s` seconds more, and a
    -60 dBFS noise floor over the whole recording (press record, wait, speak, wait, stop)."""
    padded = np.concatenate([np.zeros(int(before_s * sample_rate)), wave, np.zeros(int(after_s * sample_rate))])
    return noise_floor(padded.astype(wave.dtype), -60.0, rng)


def dc_offset(wave: np.ndarray, offset: float) -> np.ndarray:
    """A constant added to every sample, as a cheap sound card records one; clipped at full scale."""
    return np.clip(wave + offset, -1.0, 1.0)


def quantize(wave: np.ndarray, bits: int) -> np.ndarray:
    levels = 2 ** (bits - 1)
    return np.clip(np.round(wave * levels), -levels, levels - 1) / levels


def telephone(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """Narrow-band telephone: 8 kHz sampling and a 300-3400 Hz band, back at `sample_rate`."""
    import soxr
    from scipy.signal import butter, sosfiltfilt

    narrow = soxr.resample(wave, sample_rate, 8000)
    narrow = sosfiltfilt(butter(4, [300, 3400], btype="band", fs=8000, output="sos"), narrow)
    return soxr.resample(narrow, 8000, sample_rate)


def high_pass(wave: np.ndarray, sample_rate: int, hz: float) -> np.ndarray:
    """A small built-in microphone's bass roll-off: a 4th-order Butterworth high-pass at `hz`, zero phase."""
    from scipy.signal import butter, sosfiltfilt

    return sosfiltfilt(butter(4, hz, btype="high", fs=sample_rate, output="sos"), wave)


def colour(wave: np.ndarray, sample_rate: int, gain_db: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """`wave` through a zero-phase filter whose gain at each frequency (Hz) is `gain_db(f)`, applied in the
    frequency domain (a microphone's or an enclosure's colour); clipped at full scale."""
    spectrum = np.fft.rfft(wave.astype(np.float64))
    freqs = np.fft.rfftfreq(wave.size, 1 / sample_rate)
    out = np.fft.irfft(spectrum * 10 ** (gain_db(freqs) / 20), n=wave.size)
    return np.clip(out, -1.0, 1.0).astype(wave.dtype)


def tilt(wave: np.ndarray, sample_rate: int, db_per_octave: float, from_hz: float = 500.0) -> np.ndarray:
    """A microphone brighter (> 0) or duller (< 0) than a studio's: `db_per_octave` above `from_hz`."""
    return colour(wave, sample_rate, lambda f: db_per_octave * np.log2(np.maximum(f, from_hz) / from_hz))


def muffle(wave: np.ndarray, sample_rate: int, cut_db: float, above_hz: float = 2000.0) -> np.ndarray:
    """A phone in a pocket, a mask, a microphone behind a screen: a high shelf `cut_db` down above `above_hz`
    (a 4th-order transition)."""
    return colour(wave, sample_rate, lambda f: -cut_db / (1 + (above_hz / np.maximum(f, 1.0)) ** 4))


def echo(wave: np.ndarray, sample_rate: int, delay_s: float, below_db: float,
         band_hz: tuple[float, float] | None = None) -> np.ndarray:
    """`wave` plus one copy of itself `delay_s` later and `below_db` down (a hard wall far off), through a
    4th-order band-pass `band_hz` where one is given (a call's echo, back through a loudspeaker); clipped at
    full scale."""
    copy = wave.astype(np.float64)
    if band_hz is not None:
        from scipy.signal import butter, sosfilt

        copy = sosfilt(butter(4, band_hz, btype="band", fs=sample_rate, output="sos"), copy)
    delay = int(round(delay_s * sample_rate))
    out = wave.astype(np.float64)
    out[delay:] += copy[: wave.size - delay] * 10 ** (-below_db / 20)
    return np.clip(out, -1.0, 1.0).astype(wave.dtype)


def codec(wave: np.ndarray, sample_rate: int, fmt: str = "OGG", subtype: str = "OPUS",
          compression: float = 0.95) -> np.ndarray:
    """A round trip through a lossy codec (Opus by default) at a low bit rate (`compression` 0-1, 1 smallest)."""
    import soundfile as sf

    buf = io.BytesIO()
    rate = 16000 if subtype == "OPUS" and sample_rate not in (8000, 12000, 16000, 24000, 48000) else sample_rate
    sf.write(buf, wave, rate, format=fmt, subtype=subtype, compression_level=compression)
    decoded, _ = sf.read(io.BytesIO(buf.getvalue()), dtype="float32")
    return _as_long_as(decoded, wave)


def _as_long_as(decoded: np.ndarray, wave: np.ndarray) -> np.ndarray:
    """A codec's output cut or zero-padded to the input's length (codecs pad to whole frames)."""
    out = np.zeros_like(wave)
    out[: min(wave.size, decoded.size)] = decoded[: wave.size]
    return out


def ffmpeg_encode(wave: np.ndarray, sample_rate: int, muxer: str, codec: str, rate: int, bit_rate: int,
                  channels: int = 1, muxer_options: dict[str, str] | None = None) -> bytes:
    """`wave` encoded by FFmpeg (PyAV) as a phone or browser would: `muxer` ipod (M4A), mp4, adts, webm, amr or
    3gp; `codec` aac, libopus or libopencore_amrnb at `rate` Hz and `bit_rate` bit/s; mono or stereo.
    `muxer_options` go to the muxer: {"live": "1"} writes a WebM with no duration in its header, as a browser
    recording streamed to disk."""
    import av

    buf = io.BytesIO()
    layout = "stereo" if channels == 2 else "mono"
    with av.open(buf, "w", format=muxer, options=muxer_options or {}) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = layout
        stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave, dtype=np.float32)[None, :], format="flt",
                                           layout="mono")
        frame.sample_rate = sample_rate
        convert = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
        for converted in convert.resample(frame) + convert.resample(None):
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def phone_codec(wave: np.ndarray, sample_rate: int, muxer: str, codec: str, rate: int, bit_rate: int) -> np.ndarray:
    """A round trip through a phone's codec (AAC in M4A, AMR in 3GP), decoded as `specser` decodes it."""
    import soxr

    from specser.audio.containers import decode_container

    decoded, decoded_rate = decode_container(ffmpeg_encode(wave, sample_rate, muxer, codec, rate, bit_rate))
    decoded = decoded.mean(axis=1)
    if decoded_rate != sample_rate:
        decoded = soxr.resample(decoded, decoded_rate, sample_rate)
    return _as_long_as(decoded, wave)


def room_impulse(sample_rate: int, rt60_s: float, rng: np.random.Generator,
                drr_db: float | None = None) -> np.ndarray:
    """A synthetic room: the direct sound, then exponentially decaying noise reaching -60 dB at `rt60_s`.

    Without `drr_db` the tail is loud against the direct sound: the direct-to-reverberant ratio (DRR) is
    -13 dB at RT60 0.2 s, -16 dB at 0.4 s and -18 dB at 0.6 s, a talker several metres away (diffuse-field
    theory puts a living room's critical distance, where the two are equal, at about 0.6 m). With `drr_db` the
    direct sound is scaled to that ratio: about 0 dB at arm's length from a laptop, +10 dB for a phone held
    close."""
    n = int(rt60_s * sample_rate)
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s) * 0.3
    tail[: int(0.002 * sample_rate)] = 0.0  # a 2 ms gap before the first reflections
    tail[0] = 1.0 if drr_db is None else np.sqrt(np.sum(tail ** 2) * 10 ** (drr_db / 10))
    return tail / np.sqrt(np.sum(tail ** 2))


def direct_to_reverberant_db(impulse: np.ndarray) -> float:
    """The DRR of a room response whose first sample is the direct sound, in dB."""
    return float(10 * np.log10(impulse[0] ** 2 / np.sum(impulse[1:] ** 2)))


def reverberate(wave: np.ndarray, sample_rate: int, rt60_s: float, rng: np.random.Generator,
                drr_db: float | None = None) -> np.ndarray:
    from scipy.signal import fftconvolve

    wet = fftconvolve(wave, room_impulse(sample_rate, rt60_s, rng, drr_db))[: wave.size]
    return wet * (_rms(wave) / _rms(wet))


def mains_hum(wave: np.ndarray, sample_rate: int, hz: float, below_db: float, rng: np.random.Generator) -> np.ndarray:
    """`wave` plus hum at `hz` (a ground loop's: harmonics 1-10 with amplitudes 1/k, random phases), its RMS
    `below_db` under the clip's."""
    t = np.arange(wave.size) / sample_rate
    hum = sum(np.sin(2 * np.pi * hz * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 11))
    return (wave + hum * (_rms(wave) * 10 ** (-below_db / 20) / _rms(hum))).astype(wave.dtype)


def inverted_stereo(wave: np.ndarray, quieter_db: float = 0.0, delay: int = 0) -> np.ndarray:
    """`wave` as a two-microphone array records it with the second channel in opposite polarity (some
    laptops' built-in arrays do), `quieter_db` lower and `delay` samples later, then mixed to mono as
    `load_audio` mixes a file's channels. A talker in front of the laptop reaches both microphones at once
    (delay 0); one to the side, a fraction of a millisecond apart."""
    other = -np.concatenate([np.zeros(delay, wave.dtype), wave[:wave.size - delay]]) * 10 ** (-quieter_db / 20)
    return downmix(np.stack([wave, other.astype(wave.dtype)], axis=1))


def rumble(wave: np.ndarray, sample_rate: int, snr_db: float, rng: np.random.Generator,
           below_hz: float = 150.0) -> np.ndarray:
    """`wave` plus steady low-frequency noise (wind on a phone's microphone, traffic, a fan, a handled device):
    white noise through a 4th-order low-pass at `below_hz`, nothing under 20 Hz, its RMS `snr_db` under the
    clip's; clipped at full scale."""
    spectrum = np.fft.rfft(rng.standard_normal(wave.size))
    freqs = np.fft.rfftfreq(wave.size, 1 / sample_rate)
    spectrum *= (freqs >= 20.0) / np.sqrt(1 + (freqs / below_hz) ** 8)
    noise = np.fft.irfft(spectrum, wave.size)
    return np.clip(add_noise(wave.astype(np.float64), noise, snr_db), -1.0, 1.0).astype(wave.dtype)


def knock_burst(sample_rate: int, rng: np.random.Generator, decay_s: float = 0.005,
                low_pass_hz: float | None = None) -> np.ndarray:
    """A knock's sound, peak 1: noise decaying with a `decay_s` time constant over ten of them, through a
    one-pole low-pass at `low_pass_hz` where one is given."""
    n = int(10 * decay_s * sample_rate)
    burst = rng.standard_normal(n)
    if low_pass_hz is not None:  # run forwards, as a desk's or a stand's resonance would
        a = np.exp(-2 * np.pi * low_pass_hz / sample_rate)
        for i in range(1, n):
            burst[i] = (1 - a) * burst[i] + a * burst[i - 1]
    burst *= np.exp(-np.arange(n) / (decay_s * sample_rate))
    return burst / np.max(np.abs(burst))


def knock(wave: np.ndarray, sample_rate: int, above_peak_db: float, rng: np.random.Generator,
          decay_s: float = 0.005, low_pass_hz: float | None = None) -> np.ndarray:
    """`wave` plus one knock (`knock_burst`; 5 ms: a key struck or a tap on a phone; 15 ms through a 300 Hz
    low-pass: a thud on the desk the laptop stands on), its peak `above_peak_db` over the clip's, at a
    random time in the middle 80 % of the clip; clipped at full scale, as a recorder would."""
    burst = knock_burst(sample_rate, rng, decay_s, low_pass_hz) * np.max(np.abs(wave)) * 10 ** (above_peak_db / 20)
    n = burst.size
    start = int(rng.uniform(0.1, 0.9) * max(wave.size - n, 1))
    out = wave.astype(np.float64)
    out[start:start + n] += burst[: max(0, min(n, wave.size - start))]
    return np.clip(out, -1.0, 1.0).astype(wave.dtype)


def whine(wave: np.ndarray, sample_rate: int, below_db: float, rng: np.random.Generator) -> np.ndarray:
    """`wave` plus a steady sine `below_db` under its RMS, at a random frequency from 300 to 4,000 Hz and a
    random phase (a coil's or an appliance's whine); clipped at full scale, as a recorder would."""
    t = np.arange(wave.size) / sample_rate
    tone = np.sqrt(2) * np.sin(2 * np.pi * rng.uniform(300.0, 4000.0) * t + rng.uniform(0, 2 * np.pi))
    return np.clip(wave + tone * _rms(wave) * 10 ** (-below_db / 20), -1.0, 1.0).astype(wave.dtype)


def fan(wave: np.ndarray, sample_rate: int, below_db: float, rng: np.random.Generator,
        blade_hz: float = 180.0) -> np.ndarray:
    """`wave` plus a fan: its blade tone at `blade_hz` and four harmonics (amplitudes 1/k, random phases) over
    a hiss of white noise, their RMS `below_db` under the clip's; clipped at full scale."""
    t = np.arange(wave.size) / sample_rate
    sound = sum(np.sin(2 * np.pi * blade_hz * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 6))
    sound = sound + 0.5 * rng.standard_normal(wave.size)
    return np.clip(wave + sound * (_rms(wave) * 10 ** (-below_db / 20) / _rms(sound)), -1.0, 1.0).astype(wave.dtype)


def keystrokes(wave: np.ndarray, sample_rate: int, below_peak_db: float, rng: np.random.Generator,
               keys_per_s: float = 6.0) -> np.ndarray:
    """`wave` with typing beside the microphone all through it: keystrokes about `keys_per_s` a second (a
    50 ms gap plus an exponential wait), each a click (`knock_burst`, 1-3 ms decay) on the press, its peak
    0.6-1.0 times `below_peak_db` under the clip's peak, and one at half that 60-120 ms later on the
    release; clipped at full scale, as a recorder would."""
    out = wave.astype(np.float64)
    level = np.max(np.abs(wave)) * 10 ** (-below_peak_db / 20)
    press = rng.uniform(0.0, 0.1)
    while press * sample_rate < wave.size:
        for delay, share in ((0.0, 1.0), (rng.uniform(0.06, 0.12), 0.5)):
            click = knock_burst(sample_rate, rng, rng.uniform(0.001, 0.003)) * level * share * rng.uniform(0.6, 1.0)
            start = int((press + delay) * sample_rate)
            n = max(0, min(click.size, wave.size - start))
            out[start:start + n] += click[:n]
        press += 0.05 + rng.exponential(1 / keys_per_s)
    return np.clip(out, -1.0, 1.0).astype(wave.dtype)


def dropouts(wave: np.ndarray, sample_rate: int, loss: float, rng: np.random.Generator, frame_s: float = 0.02,
             mean_burst: float = 2.0) -> np.ndarray:
    """`wave` with 20 ms frames lost and written as zeros, as a recorder writes the gaps of a Bluetooth link or
    a USB stream that drops packets, or a call recorded without concealment. Losses come in bursts (a
    two-state Gilbert chain): a lost frame is followed by another with probability 1 - 1/`mean_burst`, and
    `loss` of the frames are lost in the long run."""
    frame = int(round(frame_s * sample_rate))
    n_frames = -(-wave.size // frame)
    p_recover = 1.0 / mean_burst
    p_lose = loss * p_recover / (1.0 - loss)  # the chain's stationary share of lost frames is `loss`
    lost, state = np.zeros(n_frames, bool), rng.random() < loss
    for i, u in enumerate(rng.random(n_frames)):
        lost[i] = state
        state = u >= p_recover if state else u < p_lose
    return np.where(np.repeat(lost, frame)[: wave.size], np.zeros((), wave.dtype), wave)


Condition = Callable[[np.ndarray, int, np.random.Generator, np.ndarray], np.ndarray]


def _noise(kind: str, snr: float) -> Condition:
    def apply(wave, sr, rng, babble):
        source = {"white": lambda: rng.standard_normal(wave.size), "pink": lambda: pink_noise(wave.size, rng),
                  "babble": lambda: babble}[kind]()
        return add_noise(wave, source, snr)

    return apply


CONDITIONS: dict[str, Condition] = {
    "clean": lambda w, sr, rng, babble: w,
    **{f"{kind} {snr} dB SNR": _noise(kind, snr) for kind in ("white", "pink", "babble") for snr in (30, 20, 10)},
    "noise floor -60 dBFS": lambda w, sr, rng, babble: noise_floor(w, -60.0, rng),
    "gain -20 dB": lambda w, sr, rng, babble: gain(w, -20.0),
    "gain +20 dB": lambda w, sr, rng, babble: gain(w, 20.0),
    "8-bit": lambda w, sr, rng, babble: quantize(w, 8),
    "telephone band": lambda w, sr, rng, babble: telephone(w, sr),
    "high-pass 200 Hz (small built-in microphone)": lambda w, sr, rng, babble: high_pass(w, sr, 200.0),
    "opus, low bit rate": lambda w, sr, rng, babble: codec(w, sr),
    "aac 32 kbit/s (voice memo)": lambda w, sr, rng, babble: phone_codec(w, sr, "ipod", "aac", 16000, 32000),
    "amr-nb 12.2 kbit/s (mobile call)": lambda w, sr, rng, babble: phone_codec(w, sr, "3gp", "libopencore_amrnb",
                                                                               8000, 12200),
    "reverb RT60 0.6 s": lambda w, sr, rng, babble: reverberate(w, sr, 0.6, rng),  # DRR -18 dB: metres away
    "a room at arm's length (RT60 0.6 s, direct-to-reverberant ratio 0 dB)": lambda w, sr, rng, babble: (
        reverberate(w, sr, 0.6, rng, drr_db=0.0)),
    "a room, a phone held close (RT60 0.6 s, direct-to-reverberant ratio +10 dB)": lambda w, sr, rng, babble: (
        reverberate(w, sr, 0.6, rng, drr_db=10.0)),
    "an echo 150 ms later, 6 dB down": lambda w, sr, rng, babble: echo(w, sr, 0.15, 6.0),
    "a call's echo, 250 ms later, 10 dB down, 300-3400 Hz": lambda w, sr, rng, babble: echo(
        w, sr, 0.25, 10.0, (300.0, 3400.0)),
    "a brighter microphone, +3 dB an octave over 500 Hz": lambda w, sr, rng, babble: tilt(w, sr, 3.0),
    "a duller microphone, -3 dB an octave over 500 Hz": lambda w, sr, rng, babble: tilt(w, sr, -3.0),
    "muffled, 15 dB less over 2 kHz (a pocket, a mask)": lambda w, sr, rng, babble: muffle(w, sr, 15.0),
    "compressor 4:1, 20 dB below peak": lambda w, sr, rng, babble: compress(w, sr, 4.0, 20.0),
    "3 s of room noise before": lambda w, sr, rng, babble: surround(w, sr, 3.0, 0.0, rng),
    "2 s of room noise either side": lambda w, sr, rng, babble: surround(w, sr, 2.0, 2.0, rng),
    "dc offset -40 dBFS": lambda w, sr, rng, babble: dc_offset(w, 0.01),
    "dc offset 20 dB below speech": lambda w, sr, rng, babble: dc_offset(w, _rms(w) * 0.1),
    "mains hum 50 Hz, 20 dB below speech": lambda w, sr, rng, babble: mains_hum(w, sr, 50.0, 20.0, rng),
    "mains hum 60 Hz, 20 dB below speech": lambda w, sr, rng, babble: mains_hum(w, sr, 60.0, 20.0, rng),
    "stereo, one channel inverted": lambda w, sr, rng, babble: inverted_stereo(w, quieter_db=1.0),
    "stereo, one channel inverted, off-axis": lambda w, sr, rng, babble: inverted_stereo(w, delay=1),
    "a knock at the speech's peak": lambda w, sr, rng, babble: knock(w, sr, 0.0, rng),
    "a knock 12 dB above the speech's peak": lambda w, sr, rng, babble: knock(w, sr, 12.0, rng),
    "a thud 12 dB above the speech's peak": lambda w, sr, rng, babble: knock(w, sr, 12.0, rng, 0.015, 300.0),
    "typing at the speech's peak": lambda w, sr, rng, babble: keystrokes(w, sr, 0.0, rng),
    "typing 6 dB below the speech's peak": lambda w, sr, rng, babble: keystrokes(w, sr, 6.0, rng),
    "a steady whine 20 dB below speech": lambda w, sr, rng, babble: whine(w, sr, 20.0, rng),
    "a steady whine 10 dB below speech": lambda w, sr, rng, babble: whine(w, sr, 10.0, rng),
    "a fan (blade tone and hiss) 20 dB below speech": lambda w, sr, rng, babble: fan(w, sr, 20.0, rng),
    "a fan (blade tone and hiss) 10 dB below speech": lambda w, sr, rng, babble: fan(w, sr, 10.0, rng),
    "rumble under 150 Hz, 10 dB SNR": lambda w, sr, rng, babble: rumble(w, sr, 10.0, rng),
    "rumble under 150 Hz, 0 dB SNR": lambda w, sr, rng, babble: rumble(w, sr, 0.0, rng),
    "dropouts, 5 % of 20 ms frames lost": lambda w, sr, rng, babble: dropouts(w, sr, 0.05, rng),
    "dropouts, 15 % of 20 ms frames lost": lambda w, sr, rng, babble: dropouts(w, sr, 0.15, rng),
    # Everyday recordings put several conditions on one voice at once.
    # Named "a laptop at arm's length (room RT60 0.4 s, ...)" until 2026-12-07: its room's direct sound is 16 dB
    # under the tail, which puts the talker metres from the laptop. The next one is at arm's length.
    "a laptop across the room (room RT60 0.4 s, direct-to-reverberant ratio -16 dB, pink noise 20 dB SNR, a duller microphone, opus)": lambda w, sr, rng, babble: (
        codec(tilt(add_noise(reverberate(w, sr, 0.4, rng), pink_noise(w.size, rng), 20.0), sr, -3.0), sr)),
    "a laptop at arm's length in a room (RT60 0.4 s, direct-to-reverberant ratio 0 dB, pink noise 20 dB SNR, a duller microphone, opus)": lambda w, sr, rng, babble: (
        codec(tilt(add_noise(reverberate(w, sr, 0.4, rng, drr_db=0.0), pink_noise(w.size, rng), 20.0), sr, -3.0), sr)),
    "a call on speakerphone (room RT60 0.3 s, babble 20 dB SNR, amr-nb 12.2 kbit/s)": lambda w, sr, rng, babble: (
        phone_codec(add_noise(reverberate(w, sr, 0.3, rng), babble, 20.0), sr, "3gp", "libopencore_amrnb", 8000, 12200)),
    "a voice memo in a cafe (babble 10 dB SNR, aac 32 kbit/s)": lambda w, sr, rng, babble: (
        phone_codec(add_noise(w, babble, 10.0), sr, "ipod", "aac", 16000, 32000)),
}


def condition_names(text: str) -> list[str]:
    """Condition names from a comma-separated list, where a name may hold commas itself ("mains hum 50 Hz,
    20 dB below speech"; "stereo, one channel inverted, off-axis" beside "stereo, one channel inverted"):
    the pieces are grouped into known names, the longest first.

    Raises:
        ValueError: pieces that no grouping turns into names, with the names to choose from.
    """
    pieces = [p.strip() for p in text.split(",")]

    def parse(start: int) -> list[str] | None:
        if start == len(pieces):
            return []
        for end in range(len(pieces), start, -1):
            name = ", ".join(pieces[start:end])
            if name in CONDITIONS and (rest := parse(end)) is not None:
                return [name, *rest]
        return None

    names = parse(0)
    if names is None:
        known_pieces = {piece for name in CONDITIONS for piece in name.split(", ")}
        unknown = next((p for p in pieces if p not in known_pieces), text)  # else a name cut short
        raise ValueError(f"unknown condition {unknown!r}; choose from: {'; '.join(CONDITIONS)}")
    return names


def uses_babble(name: str) -> bool:
    """Whether condition `name` mixes in other talkers (`babble_for`), alone or among other conditions."""
    return "babble" in name


def degrade_all(name: str, waves: list[np.ndarray], speakers: list[str], sample_rate: int,
                seed: int = 0) -> list[np.ndarray]:
    """Every wave under condition `name`, as float32: clip i draws from seed + i, and babble is made of
    other speakers' clips of the same set."""
    condition = CONDITIONS[name]
    return [condition(w, sample_rate, np.random.default_rng(seed + i),
                      babble_for(i, waves, speakers) if uses_babble(name) else None).astype(np.float32)
            for i, w in enumerate(waves)]


def babble_for(index: int, waves: list[np.ndarray], speakers: list[str], talkers: int = 4) -> np.ndarray:
    """Babble for clip `index`: the sum of `talkers` clips of other speakers from the same set."""
    others = [i for i, s in enumerate(speakers) if s != speakers[index]]
    if not others:
        raise ValueError("babble needs clips of at least one other speaker")
    chosen = [others[(index * 7 + k * 13) % len(others)] for k in range(talkers)]
    n = waves[index].size
    return np.sum([np.resize(waves[i], n) for i in chosen], axis=0)
