import pytest

from specser.corpus.manifest import CorpusError, load_manifest, parse_ravdess_name, write_manifest_csv
from tests.synth import make_ravdess_corpus


def test_ravdess_name_has_all_seven_fields(tmp_path):
    meta = parse_ravdess_name(tmp_path / "03-01-05-02-01-02-12.flac")
    assert meta == {"modality": "audio-only", "vocal_channel": "speech", "emotion": "angry", "intensity": "strong",
                    "statement": "kids", "repetition": "02", "actor": "12", "sex": "female"}


@pytest.mark.parametrize("name, reason", [("03-01-09-01-01-01-01", "unknown emotion"),
                                          ("03-01-05-03-01-01-01", "unknown intensity"),
                                          ("hello", "MM-VV-EE")])
def test_bad_ravdess_names(tmp_path, name, reason):
    with pytest.raises(ValueError, match=reason):
        parse_ravdess_name(tmp_path / f"{name}.wav")


@pytest.fixture(scope="module")
def full_layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("layout")
    make_ravdess_corpus(root, actors=(1, 2), emotions=tuple(
        ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]), seconds=0.1)
    (root / "Actor_01" / "notes.wav").write_bytes(b"")
    (root / "Actor_01" / "03-01-09-01-01-01-01.wav").write_bytes(b"")
    return root


def test_label_sets(full_layout):
    six = load_manifest(full_layout, label_set="ravdess6")
    assert six.corpus == "ravdess"
    assert six.labels == ["neutral", "happy", "sad", "angry", "fearful", "surprised"]
    assert len(six.rows) == 2 * 44  # per actor: neutral 4 + 5 emotions x 8
    assert len(six.excluded) == 2 * 16
    eight = load_manifest(full_layout, label_set="ravdess8")
    assert len(eight.rows) == 2 * 60 and len(eight.labels) == 8
    merged = load_manifest(full_layout, label_set="calm→neutral")
    assert "calm" not in merged.labels
    assert sum(r.label == "neutral" for r in merged.rows) == 2 * 12
    with pytest.raises(CorpusError, match="unknown label set"):
        load_manifest(full_layout, label_set="ravdess7")


def test_unparseable_files_are_listed_with_reasons(full_layout):
    manifest = load_manifest(full_layout)
    reasons = dict((p.rsplit("/", 1)[-1], r) for p, r in manifest.skipped)
    assert "MM-VV-EE" in reasons["notes.wav"]
    assert "unknown emotion" in reasons["03-01-09-01-01-01-01.wav"]
    row = manifest.rows[0]
    assert row.speaker == row.metadata["actor"] and len(row.metadata) == 8


def test_folder_per_label_layout(tmp_path):
    for label in ("joy", "anger"):
        (tmp_path / label).mkdir()
        for i in range(3):
            (tmp_path / label / f"clip{i}.wav").write_bytes(b"RIFF")
    (tmp_path / "stray.wav").write_bytes(b"RIFF")
    manifest = load_manifest(tmp_path)
    assert manifest.corpus == "folder"
    assert manifest.labels == ["anger", "joy"] and len(manifest.rows) == 6
    assert [r for r in manifest.skipped if "label folder" in r[1]]
    only = load_manifest(tmp_path, labels=["joy"])
    assert {r.label for r in only.rows} == {"joy"} and len(only.excluded) == 3


def test_csv_manifest_resolves_relative_paths(tmp_path):
    (tmp_path / "audio").mkdir()
    for name in ("a.wav", "b.wav"):
        (tmp_path / "audio" / name).write_bytes(b"RIFF")
    csv = tmp_path / "list.csv"
    csv.write_text("path,label,speaker,gender\naudio/a.wav,happy,s1,f\naudio/b.wav,sad,,m\naudio/missing.wav,sad,s2,f\n")
    manifest = load_manifest(csv)
    assert manifest.corpus == "csv" and len(manifest.rows) == 2
    a, b = manifest.rows
    assert a.path == str(tmp_path / "audio" / "a.wav") and a.speaker == "s1" and a.metadata == {"gender": "f"}
    assert b.speaker == "unknown"
    assert any("file not found" in reason for _, reason in manifest.skipped)
    bad = tmp_path / "bad.csv"
    bad.write_text("file,emotion\nx.wav,happy\n")
    with pytest.raises(CorpusError, match="missing"):
        load_manifest(bad)


def test_missing_path_and_empty_corpus(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_manifest(tmp_path / "nowhere")
    with pytest.raises(CorpusError, match="no usable audio"):
        load_manifest(tmp_path)


def test_manifest_csv_is_written(full_layout, tmp_path):
    manifest = load_manifest(full_layout)
    write_manifest_csv(manifest, tmp_path / "manifest.csv")
    lines = (tmp_path / "manifest.csv").read_text().splitlines()
    assert lines[0].startswith("utt_id,path,label,speaker,corpus,actor,emotion,intensity")
    assert len(lines) == len(manifest.rows) + 1


def test_a_written_manifest_reads_back_as_the_same_corpus(synth_corpus, tmp_path, monkeypatch):
    """manifest.csv -> --data: same ids, labels, speakers, metadata, corpus name and splits, from any cwd."""
    from specser.corpus.manifest import load_manifest, write_manifest_csv
    from specser.data.folds import make_folds
    from specser.data.splits import holdout_split

    monkeypatch.chdir(synth_corpus.parent)
    original = load_manifest(synth_corpus.name)  # a relative --data path, as users type it
    write_manifest_csv(original, tmp_path / "elsewhere" / "manifest.csv")
    again = load_manifest(tmp_path / "elsewhere" / "manifest.csv")
    assert again.corpus == "ravdess" and again.labels == original.labels
    assert [(r.utt_id, r.label, r.speaker, r.metadata) for r in again.rows] == \
        [(r.utt_id, r.label, r.speaker, r.metadata) for r in original.rows]
    assert holdout_split(again.rows, 0.2, 0.2, 7) == holdout_split(original.rows, 0.2, 0.2, 7)
    assert [f.to_dict() for f in make_folds(again.rows, "actor-5fold", 7)] == \
        [f.to_dict() for f in make_folds(original.rows, "actor-5fold", 7)]


def test_a_runs_manifest_gives_the_runs_split(trained_run):
    import json

    from specser.config import load_config
    from specser.data.splits import holdout_split
    from specser.features.prepare import prepare_corpus

    cfg = load_config(trained_run / "config.yaml", [f"data.path={trained_run / 'manifest.csv'}"])
    corpus = prepare_corpus(cfg, progress=False)
    split = holdout_split(corpus.rows, cfg.data.test_size, cfg.data.val_size, cfg.seed, cfg.data.test_speakers)
    assert split.to_dict() == json.loads((trained_run / "split.json").read_text())


def test_the_shared_nemo_copy_reads_as_six_canonical_emotions_and_nine_speakers():
    """nEMO's own labels map to the paper's six; counts as its README gives them (no audio is decoded)."""
    import os
    from collections import Counter
    from pathlib import Path

    from specser.corpus.manifest import load_manifest

    root = Path(os.environ.get("SPECSER_NEMO", Path(__file__).resolve().parents[3] / "shared" / "data" / "nemo"))
    if not (root / "data.tsv").is_file():
        pytest.skip(f"nEMO not found at {root} (set SPECSER_NEMO to run this test)")
    manifest = load_manifest(root)
    assert manifest.corpus == "nemo" and len(manifest.rows) == 4481 and not manifest.skipped
    assert Counter(r.label for r in manifest.rows) == {"neutral": 809, "happy": 749, "sad": 769, "angry": 749,
                                                      "fearful": 736, "surprised": 669}
    assert len({r.speaker for r in manifest.rows}) == 9 and all(r.speaker == r.speaker.strip() for r in manifest.rows)
