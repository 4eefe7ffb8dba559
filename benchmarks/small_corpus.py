"""Cut a small corpus out of a large one: a few speakers, a few clips per speaker and label.

A user's own corpus is often a handful of speakers and a few hundred clips. This writes a CSV
manifest (``path,label,speaker``) that stands in for one, drawn reproducibly from any corpus specser
reads, so ``specser cv --protocol loso --data SUBSET.csv`` and ``specser baseline`` measure the
recipes on it:

    python benchmarks/small_corpus.py ../shared/data/nemo --speakers 6 --per-label 14 \
        --out runs/small/nemo-6x84.csv

Speakers are drawn at random (seeded) among those that have `per_label` clips of every label;
clips likewise.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path

from specser.corpus.manifest import Manifest, load_manifest, write_manifest_csv


def small_subset(manifest: Manifest, speakers: int, per_label: int, seed: int) -> Manifest:
    """The subset: `speakers` speakers x `per_label` clips of each label, drawn with `seed`."""
    by_speaker: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in manifest.rows:
        by_speaker[row.speaker][row.label].append(row)
    eligible = sorted(s for s, rows in by_speaker.items()
                      if all(len(rows[label]) >= per_label for label in manifest.labels))
    if len(eligible) < speakers:
        raise SystemExit(f"only {len(eligible)} speakers have {per_label} clips of every label; asked for {speakers}")
    rng = random.Random(seed)
    chosen = sorted(rng.sample(eligible, speakers))
    rows = [row for s in chosen for label in manifest.labels
            for row in rng.sample(sorted(by_speaker[s][label], key=lambda r: r.path), per_label)]
    return Manifest(corpus=manifest.corpus, root=manifest.root, labels=manifest.labels,
                    rows=sorted(rows, key=lambda r: r.path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="corpus folder or CSV manifest")
    parser.add_argument("--speakers", type=int, default=6)
    parser.add_argument("--per-label", type=int, default=14, help="clips per speaker and label")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True, help="CSV manifest to write")
    args = parser.parse_args()
    subset = small_subset(load_manifest(args.data), args.speakers, args.per_label, args.seed)
    write_manifest_csv(subset, Path(args.out))
    speakers = sorted({r.speaker for r in subset.rows})
    print(f"{len(subset.rows)} clips, speakers {', '.join(speakers)}, labels {', '.join(subset.labels)} -> {args.out}")


if __name__ == "__main__":
    main()
