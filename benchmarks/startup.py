"""Start-up of `specser predict MODEL one.wav`: where the time goes.

    python benchmarks/startup.py [--model FILE] [--clip FILE] [--repeats 5]

Measures, each as the median of --repeats fresh processes: `import torch` alone, and the whole
`specser predict` command (the bundled model when --model is not given). Then, in one process,
the steps of the command: importing the CLI, loading the model file, building the network,
folding its batch norms (this project's fold, and torch.fx's fuser it replaced, side by side),
and the prediction itself. Writes benchmarks/results/startup.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402


def _wall(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _steps(model: Path, clip: Path) -> dict:
    """The command's steps in this process (torch imported first, so each step is its own cost)."""
    code = f"""
import copy, json, time, warnings
t = time.perf_counter(); import torch; out = {{"import_torch_s": time.perf_counter() - t}}
t = time.perf_counter(); import specser.cli.main; out["import_cli_s"] = time.perf_counter() - t
from specser.inference.model_file import ModelFile
from specser.inference.predictor import Predictor, fold_batch_norms
t = time.perf_counter(); mf = ModelFile.load({str(model)!r}); out["load_model_file_s"] = time.perf_counter() - t
t = time.perf_counter(); net = mf.build(); out["build_network_s"] = time.perf_counter() - t
t = time.perf_counter(); fold_batch_norms(copy.deepcopy(net)); out["fold_batch_norms_s"] = time.perf_counter() - t
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t = time.perf_counter(); from torch.fx.experimental.optimization import fuse; fuse(copy.deepcopy(net))
    out["torch_fx_fuse_s (before)"] = time.perf_counter() - t
t = time.perf_counter(); p = Predictor(mf, device="cpu"); out["predictor_s"] = time.perf_counter() - t
t = time.perf_counter(); label = p.predict({str(clip)!r}).label; out["predict_one_clip_s"] = time.perf_counter() - t
print(json.dumps(out))
"""
    import json

    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--clip", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "startup.json")
    args = parser.parse_args()
    from specser.bundled import default_model

    model = args.model or default_model()
    clip = args.clip
    if clip is None:
        import numpy as np
        import soundfile as sf

        clip = Path("/tmp/specser-startup-clip.wav")
        t = np.arange(48000) / 16000
        sf.write(clip, (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2).astype("float32"), 16000)
    specser = str(Path(sys.executable).with_name("specser"))
    command = [specser, "predict", *([str(args.model)] if args.model else []), str(clip), "--no-progress"]
    record = {
        "machine": describe(), "model": str(model), "clip": str(clip), "repeats": args.repeats,
        "import_torch_wall_s": _wall([sys.executable, "-c", "import torch"], args.repeats),
        "predict_command_wall_s": _wall(command, args.repeats),
        "steps_in_process": _steps(model, clip),
    }
    for key, value in record.items():
        print(f"{key}: {value}")
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
