"""Several corpora as one manifest: canonical labels, a corpus per row, speakers namespaced by corpus.

With one corpus nothing changes (ids, speakers and labels stay as its parser gives them), so
single-corpus runs and their saved splits are unaffected. With several, each row's id becomes
``<corpus>/<id>`` and its speaker ``<corpus>:<speaker>`` (two corpora may both have a speaker
"01"), its corpus is recorded in ``metadata["corpus"]``, and labels are mapped to the canonical
names (`CANONICAL_LABELS`: anger -> angry, fear -> fearful, ...), so "angry" means one class.
"""

from __future__ import annotations

from dataclasses import replace

from specser.corpus.manifest import Manifest, ordered_labels

# Other corpora's names for the canonical classes (RAVDESS's names are the canonical ones).
CANONICAL_LABELS = {"anger": "angry", "fear": "fearful", "happiness": "happy", "joy": "happy", "sadness": "sad",
                    "surprise": "surprised", "neu": "neutral", "ang": "angry", "hap": "happy", "sad": "sad",
                    "fea": "fearful", "sur": "surprised", "disgusted": "disgust", "calmness": "calm"}


def canonical(label: str) -> str:
    return CANONICAL_LABELS.get(label.lower(), label.lower())


def corpus_names(manifests: list[Manifest]) -> list[str]:
    """One name per corpus: its layout's name, numbered when two share it (folder, folder-2)."""
    names, seen = [], {}
    for m in manifests:
        seen[m.corpus] = seen.get(m.corpus, 0) + 1
        names.append(m.corpus if seen[m.corpus] == 1 else f"{m.corpus}-{seen[m.corpus]}")
    return names


def combine(manifests: list[Manifest], plain_first: bool = False) -> Manifest:
    """One manifest from several (or the one, unchanged).

    Args:
        plain_first: keep the first corpus's ids and speakers as they are (only the others are
            namespaced), so a run on one corpus with others beside it for training
            (`data.extra_train`) still names that corpus's speakers as usual: `--test-speakers 01,11`
            and the EmoBox folds work unchanged.
    """
    if len(manifests) == 1:
        return manifests[0]
    rows, skipped, excluded = [], [], []
    for k, (name, m) in enumerate(zip(corpus_names(manifests), manifests)):
        plain = plain_first and k == 0
        rows += [replace(r, utt_id=r.utt_id if plain else f"{name}/{r.utt_id}",
                         speaker=r.speaker if plain else f"{name}:{r.speaker}", label=canonical(r.label),
                         metadata={**r.metadata, "corpus": name}) for r in m.rows]
        skipped += m.skipped
        excluded += m.excluded
    return Manifest("+".join(corpus_names(manifests)), "; ".join(m.root for m in manifests),
                    ordered_labels({r.label for r in rows}), rows, skipped, excluded)

