"""How often the speech check refuses real speech, and (--voicing) how often it refuses sounds without a voice.

Default: every RAVDESS file clean, 20 dB quieter, and over a -60 dBFS white-noise floor; every nEMO file clean.
Refusals of real speech are errors of the check; each count also says how many the energy check alone refused.

--voicing measures the voice check (`specser.audio.voicing`) under its rule
(benchmarks/results/real_voices/rule_voicing.txt), each figure with and without it:
 (a) every RAVDESS and nEMO file, clean;
 (b) the RAVDESS clips of four actors (02, 07, 13, 18) and 200 nEMO clips under every recording condition
     of `specser.audio.degrade.CONDITIONS`;
 (c) 100 of each kind of sound without a voice (`specser.audio.sounds`, seeds 1000-1099 or --seeds FIRST
     on), and sounds with a pitch, which the check is not built to refuse;
 (d) its time on a 4 s clip and on a 10-minute recording, one thread.
--voicing --bundled instead labels 10 of each kind of sound with the bundled model, without and with the
voice check: what a user got for them before.

    python benchmarks/speech_check.py [--ravdess DIR] [--nemo DIR]
    python benchmarks/speech_check.py --voicing --seeds 4000 [--workers 2]     # about 4 min on 2 cores
    python benchmarks/speech_check.py --voicing --bundled --seeds 4000         # 10 s

Prints the counts and writes benchmarks/results/speech_check.json (--voicing: speech_check_voicing.json).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.audio.checks import speech_problem  # noqa: E402
from specser.audio.degrade import CONDITIONS as RECORDING_CONDITIONS, babble_for, uses_babble  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402
from specser.audio.sounds import SOUNDS, sound  # noqa: E402

SR = 16000
CONDITIONS = {
    "clean": lambda w, rng: w,
    "gain -20 dB": lambda w, rng: w * 0.1,
    "white noise floor -60 dBFS": lambda w, rng: w + rng.standard_normal(w.size).astype(np.float32) * 1e-3,
}
TEST_ACTORS = ("02", "07", "13", "18")
FIRST_SEED = 1000  # the first candidate's test; the second's ran from 3000, the third's from 4000 (--seeds)


def refusals(files: list[Path], conditions: dict) -> dict:
    rng = np.random.default_rng(0)
    counts = {name: {"files": 0, "refused": 0, "refused_energy_check": 0, "examples": []} for name in conditions}
    for path in files:
        wave = load_audio(path, SR)
        for name, make in conditions.items():
            degraded = make(wave, rng).astype(np.float32)
            problem = speech_problem(degraded, SR)
            counts[name]["files"] += 1
            counts[name]["refused_energy_check"] += speech_problem(degraded, SR, min_voiced_s=0.0) is not None
            if problem:
                counts[name]["refused"] += 1
                counts[name]["examples"] = (counts[name]["examples"] + [f"{path.name}: {problem[0]}"])[:5]
    return counts


def _both(wave: np.ndarray) -> tuple[bool, bool]:
    """(refused by the energy check alone, refused with the voice check)."""
    return speech_problem(wave, SR, min_voiced_s=0.0) is not None, speech_problem(wave, SR) is not None


def _count(pairs: list[tuple[bool, bool]], names: list[str]) -> dict:
    energy = [n for n, (e, _) in zip(names, pairs) if e]
    voice = [n for n, (e, v) in zip(names, pairs) if v and not e]
    return {"n": len(pairs), "refused_energy_check": len(energy), "refused_with_voice": len(energy) + len(voice),
            "refused_only_by_voice": len(voice), "examples": voice[:5]}


def _files_chunk(paths: list[Path]) -> list[tuple[bool, bool]]:
    return [_both(load_audio(p, SR)) for p in paths]


def _conditions_chunk(args) -> dict:
    names, paths, speakers = args
    waves = [load_audio(p, SR) for p in paths]
    out = {}
    for name in names:
        rng = np.random.default_rng(0)
        degraded = [RECORDING_CONDITIONS[name](w, SR, rng, babble_for(i, waves, speakers) if uses_babble(name)
                                               else None).astype(np.float32) for i, w in enumerate(waves)]
        out[name] = _count([_both(w) for w in degraded], [p.name for p in paths])
    return out


def _sounds_chunk(args) -> dict:
    kinds, first_seed = args
    seeds = range(first_seed, first_seed + 100)
    out = {}
    for kind in kinds:
        pairs = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            pairs.append(_both(sound(kind, rng.uniform(1.0, 6.0), SR, rng)))
        out[kind] = _count(pairs, [f"seed {s}" for s in seeds])
    return out


def pitched_sounds() -> dict[str, np.ndarray]:
    """Sounds with a pitch, reported only: chords, a buzz, a chirp over noise, a tone with knocks."""
    rng, t = np.random.default_rng(0), np.arange(3 * SR) / SR
    chords = np.zeros_like(t)
    for k, f0 in enumerate([261.6, 329.6, 392.0, 523.3, 440.0, 349.2]):
        inside = (t >= k * 0.5) & (t < (k + 1) * 0.5)
        chords += sum(np.exp(-3 * (t - k * 0.5)) * inside * np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6))
    buzz = ((t * 120) % 1 - 0.5) * (t < 1.5)
    chirp = (np.sin(2 * np.pi * (200 * t + 300 * t ** 2)) * (np.sin(2 * np.pi * t) > 0)
             + 0.05 * rng.standard_normal(t.size))
    tone = 0.2 * np.sin(2 * np.pi * 440 * t) + sound("knocks on a door", 3.0, SR, rng, -6.0)
    return {name: (0.3 * w / np.max(np.abs(w))).astype(np.float32)
            for name, w in (("chords", chords), ("a buzz, 1.5 s", buzz), ("a chirp, on and off, over noise", chirp),
                            ("a tone with knocks", tone))}


def timing() -> dict:
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    t = np.arange(4 * SR) / SR
    # A gated 150 Hz tone: a voice to the first candidate; with no harmonics, not to the later ones, which
    # read it to its end, every frame a candidate (their worst case).
    voice = (np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
             + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    noise = sound("white noise bursts", 4.0, SR, rng)
    recording = np.tile(voice, 150)  # ten minutes
    noise_long = sound("white noise bursts", 600.0, SR, rng)

    def extra_ms(wave, repeat):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            speech_problem(wave, SR)
            middle = time.perf_counter()
            speech_problem(wave, SR, min_voiced_s=0.0)
            times.append((middle - start) - (time.perf_counter() - middle))
        return 1000 * float(np.median(times))

    return {"voice_4s_ms": extra_ms(voice, 20), "noise_bursts_4s_ms": extra_ms(noise, 20),
            "voice_10min_ms": extra_ms(recording, 3), "noise_bursts_10min_ms": extra_ms(noise_long, 3)}


def voicing(ravdess: Path, nemo: Path, workers: int, first_seed: int) -> dict:
    rav = sorted(ravdess.glob("Actor_*/*.*"))
    nemo_files = sorted((nemo / "samples").glob("*.*"))
    held = [p for p in rav if p.parent.name[-2:] in TEST_ACTORS] + sorted(nemo_files[22::45] + nemo_files[44::45])
    speakers = [p.parent.name if p.parent.name.startswith("Actor") else p.name.split("_")[0] for p in held]
    names = list(RECORDING_CONDITIONS)
    with ProcessPoolExecutor(workers) as pool:
        every_file = np.array(rav + nemo_files, dtype=object)
        files = [pool.submit(_files_chunk, chunk) for chunk in np.array_split(every_file, 16)]
        conds = [pool.submit(_conditions_chunk, (names[i::workers * 2], held, speakers)) for i in range(workers * 2)]
        kinds = list(SOUNDS)
        snds = [pool.submit(_sounds_chunk, (kinds[i::workers], first_seed)) for i in range(workers)]
        pairs = [pair for f in files for pair in f.result()]
        record = {"clean_files": {"ravdess": _count(pairs[:len(rav)], [p.name for p in rav]),
                                  "nemo": _count(pairs[len(rav):], [p.name for p in nemo_files])},
                  "conditions": {name: r for c in conds for name, r in c.result().items()},
                  "sounds": {kind: r for s in snds for kind, r in s.result().items()}}
    record["conditions"] = {name: record["conditions"][name] for name in names}
    record["pitched_sounds"] = {name: {"energy_check": e, "with_voice": v}
                                for name, (e, v) in ((n, _both(w)) for n, w in pitched_sounds().items())}
    record["timing"] = timing()
    return record


def bundled_labels(first_seed: int) -> dict:
    """The bundled model's answers for 10 of each kind of sound, without the voice check and with it."""
    from collections import Counter

    from specser.audio.load import AudioError
    from specser.bundled import default_model
    from specser.inference.base import open_predictor

    answers = {}
    for name, min_voiced_s in (("without the voice check", 0.0), ("with it", None)):
        predictor = open_predictor(default_model(), **({} if min_voiced_s is None else {"min_voiced_s": min_voiced_s}))
        labels, top = Counter(), []
        for kind in SOUNDS:
            for seed in range(first_seed, first_seed + 10):
                rng = np.random.default_rng(seed)
                try:
                    prediction = predictor.predict(sound(kind, rng.uniform(1.0, 6.0), SR, rng), sample_rate=SR)
                except AudioError as error:
                    labels[f"refused ({error.kind})"] += 1
                    continue
                labels[prediction.label] += 1
                top.append(max(prediction.probabilities.values()))
        answers[name] = {"sounds": 10 * len(SOUNDS), "answers": dict(labels.most_common()),
                         "labelled": len(top), "median_top_probability": float(np.median(top)) if top else None,
                         "top_probability_over_0.9": int(sum(t > 0.9 for t in top))}
    return answers


def decide(record: dict) -> dict:
    clean_extra = sum(c["refused_only_by_voice"] for c in record["clean_files"].values())
    conds = record["conditions"]
    worst = max(conds, key=lambda n: conds[n]["refused_only_by_voice"] / conds[n]["n"])
    worst_share = conds[worst]["refused_only_by_voice"] / conds[worst]["n"]
    all_extra = sum(c["refused_only_by_voice"] for c in conds.values()) / sum(c["n"] for c in conds.values())
    sounds = record["sounds"]
    share = {k: s["refused_with_voice"] / s["n"] for k, s in sounds.items()}
    overall = sum(s["refused_with_voice"] for s in sounds.values()) / sum(s["n"] for s in sounds.values())
    t = record["timing"]
    checks = {
        "a_clean_files_extra_refused_at_most_5": (clean_extra, clean_extra <= 5),
        "b_worst_condition_extra_at_most_1pct": (f"{worst}: {100 * worst_share:.2f} %", worst_share <= 0.01),
        "b_all_conditions_extra_at_most_0.2pct": (f"{100 * all_extra:.3f} %", all_extra <= 0.002),
        "c_sounds_refused_at_least_95pct": (f"{100 * overall:.1f} %", overall >= 0.95),
        "c_each_kind_at_least_90pct": (f"{min(share, key=share.get)}: {100 * min(share.values()):.0f} %",
                                       min(share.values()) >= 0.90),
        "d_4s_at_most_10ms": (f"{max(t['voice_4s_ms'], t['noise_bursts_4s_ms']):.1f} ms",
                              max(t["voice_4s_ms"], t["noise_bursts_4s_ms"]) <= 10),
        "d_10min_at_most_2s": (f"{max(t['voice_10min_ms'], t['noise_bursts_10min_ms']) / 1000:.2f} s",
                               max(t["voice_10min_ms"], t["noise_bursts_10min_ms"]) <= 2000),
    }
    return {"checks": {k: {"value": v, "passes": ok} for k, (v, ok) in checks.items()},
            "adopt": all(ok for _, ok in checks.values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ravdess", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))
    parser.add_argument("--voicing", action="store_true", help="measure the voice check under its rule")
    parser.add_argument("--workers", type=int, default=2, help="processes for --voicing")
    parser.add_argument("--bundled", action="store_true", help="--voicing: the bundled model's answers for the sounds")
    parser.add_argument("--seeds", type=int, default=FIRST_SEED,
                        help="--voicing: the first of the 100 seeds of each sound")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    record = {"machine": describe()}
    if args.voicing:
        if not (args.ravdess.is_dir() and (args.nemo / "samples").is_dir()):
            parser.error("--voicing needs both corpora (--ravdess, --nemo or SPECSER_RAVDESS, SPECSER_NEMO)")
        record["first_seed"] = args.seeds
        if args.bundled:
            record["bundled_model"] = bundled_labels(args.seeds)
            for name, answer in record["bundled_model"].items():
                print(f"{name:24} {answer}")
            write_result(record, args.out or HERE / "results" / "real_voices" / "speech_check_voicing_bundled.json")
            return 0
        record.update(voicing(args.ravdess, args.nemo, args.workers, args.seeds))
        record["decision"] = decide(record)
        for corpus, c in record["clean_files"].items():
            print(f"clean {corpus:8} refused {c['refused_energy_check']} by energy, {c['refused_only_by_voice']} more "
                  f"by voice, of {c['n']}  {c['examples']}")
        for name, c in record["conditions"].items():
            print(f"{name:55} +{c['refused_only_by_voice']} of {c['n']} (energy {c['refused_energy_check']})")
        for kind, c in record["sounds"].items():
            print(f"{kind:20} refused {c['refused_energy_check']:3} by energy, {c['refused_with_voice']:3} with voice, "
                  f"of {c['n']}")
        print("pitched:", record["pitched_sounds"])
        print("timing:", record["timing"])
        for name, c in record["decision"]["checks"].items():
            print(f"{name:45} {c['value']}  {'passes' if c['passes'] else 'FAILS'}")
        print("adopt" if record["decision"]["adopt"] else "not adopted")
        write_result(record, args.out or HERE / "results" / "real_voices" / "speech_check_voicing.json")
        return 0
    if args.ravdess.is_dir():
        record["ravdess"] = refusals(sorted(args.ravdess.glob("Actor_*/*.*")), CONDITIONS)
    if (args.nemo / "samples").is_dir():
        record["nemo"] = refusals(sorted((args.nemo / "samples").glob("*.opus")), {"clean": CONDITIONS["clean"]})
    for corpus in ("ravdess", "nemo"):
        for name, c in record.get(corpus, {}).items():
            print(f"{corpus:8} {name:28} refused {c['refused']:4} of {c['files']} ({c['refused_energy_check']} by the "
                  f"energy check alone)  {c['examples'][:2]}")
    write_result(record, args.out or HERE / "results" / "speech_check.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
