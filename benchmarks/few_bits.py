"""Does the `few_bits` warning (`specser.audio.quality.few_bits_warning`) mark the 8-bit recordings whose labels
move? For each run's test clips, rounded to 8 bits as the robustness benchmark does, it counts the clips the
warning names and the share of labels kept (the same as on the clean clip) among them and among the rest;
then how often it fires on the clean corpus files as decoded, before any resampling (false alarms).

    python benchmarks/few_bits.py RUN_DIR [RUN_DIR ...] [--ravdess DIR] [--nemo DIR]

Prints the figures and writes benchmarks/results/real_voices/few_bits.json.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.audio.degrade import CONDITIONS  # noqa: E402
from specser.audio.load import decode_audio, downmix  # noqa: E402
from specser.audio.quality import few_bits_warning  # noqa: E402
from specser.runs.robustness import held_out_clips, predicted_labels  # noqa: E402


def run_figures(run_dir: Path) -> dict:
    predictor, rows, waves = held_out_clips(run_dir)
    speakers = [r.speaker for r in rows]
    eight = [CONDITIONS["8-bit"](w, predictor.sample_rate, np.random.default_rng(i), None).astype(np.float32)
             for i, w in enumerate(waves)]
    warned = np.array([few_bits_warning(w) is not None for w in eight])
    kept = predicted_labels(predictor, waves, speakers) == predicted_labels(predictor, eight, speakers)
    return {"run": str(run_dir), "clips": len(rows), "warned": int(warned.sum()),
            "kept_warned": int(kept[warned].sum()), "kept_unwarned": int(kept[~warned].sum())}


def false_alarms(files: list[Path]) -> dict:
    fired = [p.name for p in files if few_bits_warning(downmix(decode_audio(p)[0])) is not None]
    return {"files": len(files), "fired": len(fired), "examples": fired[:3]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--ravdess", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "few_bits.json")
    args = parser.parse_args()
    runs = [run_figures(r) for r in args.runs]
    total = {k: sum(r[k] for r in runs) for k in ("clips", "warned", "kept_warned", "kept_unwarned")}
    unwarned = total["clips"] - total["warned"]
    summary = {"warned_share": total["warned"] / total["clips"],
               "kept_among_warned": total["kept_warned"] / max(1, total["warned"]),
               "kept_among_unwarned": total["kept_unwarned"] / max(1, unwarned),
               "kept_overall": (total["kept_warned"] + total["kept_unwarned"]) / total["clips"]}
    print(f"8-bit: the warning names {total['warned']} of {total['clips']} clips ({100 * summary['warned_share']:.1f} %); "
          f"labels kept: {100 * summary['kept_among_warned']:.1f} % of those, {100 * summary['kept_among_unwarned']:.1f} % "
          f"of the rest ({100 * summary['kept_overall']:.1f} % overall)")
    corpora = {}
    for name, folder, pattern in (("ravdess", args.ravdess, "*.flac"), ("nemo", args.nemo, "*.opus")):
        files = sorted(folder.rglob(pattern))
        if files:
            corpora[name] = false_alarms(files)
            print(f"clean {name}: fired on {corpora[name]['fired']} of {corpora[name]['files']} files as decoded")
    write_result({"machine": describe(), "runs": runs, "totals": total, "summary": summary,
                  "clean_corpora": corpora}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
