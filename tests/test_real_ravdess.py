"""A few real RAVDESS files, where realism matters. Skipped when the corpus is absent."""

import numpy as np

from specser.audio.load import audio_info, load_audio
from specser.corpus.manifest import load_manifest



def test_full_corpus_manifest(ravdess_dir):
    six = load_manifest(ravdess_dir)
    assert len(six.rows) == 1056 and not six.skipped
    counts = {label: sum(r.label == label for r in six.rows) for label in six.labels}
    assert counts == {"neutral": 96, "happy": 192, "sad": 192, "angry": 192, "fearful": 192, "surprised": 192}
    assert len({r.speaker for r in six.rows}) == 24
    assert len(load_manifest(ravdess_dir, label_set="ravdess8").rows) == 1440


def test_real_files_decode_mono_at_16k(ravdess_dir):
    stereo = [r for r in load_manifest(ravdess_dir, label_set="ravdess8").rows if audio_info(r.path)["channels"] == 2]
    assert len(stereo) == 5  # the README says five stereo files
    for row in stereo[:2]:
        wave = load_audio(row.path, 16000)
        assert wave.ndim == 1 and 2.5 < len(wave) / 16000 < 6.0 and np.abs(wave).max() > 1e-3
