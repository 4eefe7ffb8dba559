"""`specser predict` on files, folders and globs, in every format, with bad files in the mix."""

import csv
import io
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from specser.cli.main import app
from tests.synth import emotional_tone, recording_warnings

runner = CliRunner()


@pytest.fixture(scope="module")
def clips(tmp_path_factory, synth_corpus):
    root = tmp_path_factory.mktemp("clips")
    for src in sorted(synth_corpus.glob("Actor_01/*.wav"))[:5]:
        shutil.copy(src, root / src.name)
    (root / "nested").mkdir()
    rng = np.random.default_rng(0)
    long = np.concatenate([emotional_tone(c, 1, rng, seconds=1.0) for c in ("01", "05", "05", "08")])
    sf.write(root / "nested" / "long.flac", long, 16000)
    (root / "broken.wav").write_bytes(b"RIFF....WAVE not really")
    sf.write(root / "silent.wav", np.zeros(8000, dtype=np.float32), 16000)
    sf.write(root / "loud.wav", np.clip(10 * emotional_tone("05", 1, rng, seconds=1.0), -1, 1), 16000)
    return root


def _predict(trained_run, *args):
    return runner.invoke(app, ["predict", str(trained_run / "model.specser"), *args, "--no-progress"])


def test_folder_json_with_timeline_and_skips(trained_run, clips):
    result = _predict(trained_run, str(clips), "--format", "json", "--out", str(clips.parent / "p.json"))
    assert result.exit_code == 1  # two files could not be read
    assert "skipped" in result.output and "broken.wav" in result.output and "silent" in result.output
    assert "7 predictions written" in result.output and "(2 files skipped)" in result.output
    rows = json.loads((clips.parent / "p.json").read_text())
    assert len(rows) == 9  # a row for every input, the failures with their kind and reason
    status = {r["path"].rsplit("/", 1)[-1]: (r["status"], r["error"]) for r in rows}
    assert status["broken.wav"][0] == "corrupt" and status["silent.wav"][0] == "silent"
    assert "BytesIO" not in status["broken.wav"][1] and "object at 0x" not in status["broken.wav"][1]
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == 7 and all(r["error"] is None for r in ok)
    warned = {r["path"].rsplit("/", 1)[-1]: [w["kind"] for w in recording_warnings(r["warnings"])] for r in ok
              if recording_warnings(r["warnings"])}
    assert warned == {"loud.wav": ["clipped"]}  # a label all the same, and the reason to doubt it
    assert "warning " in result.output and "loud.wav: clipped" in result.output
    long = next(r for r in ok if r["path"].endswith("long.flac"))
    assert long["duration_s"] == pytest.approx(4.0) and len(long["timeline"]) == 7
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-4 for r in ok)


def test_voice_memos_and_browser_recordings_in_a_folder_are_labelled_like_the_wav(trained_run, tmp_path):
    pytest.importorskip("av")
    from tests.synth import encode_with_ffmpeg

    angry = emotional_tone("05", 1, np.random.default_rng(3), seconds=1.5)
    sf.write(tmp_path / "take.wav", angry, 16000)
    for name, muxer, codec, rate in (("take.m4a", "ipod", "aac", 16000), ("take.webm", "webm", "libopus", 48000),
                                     ("take.3gp", "3gp", "libopencore_amrnb", 8000)):
        (tmp_path / name).write_bytes(encode_with_ffmpeg(angry, muxer, codec, rate))
    result = _predict(trained_run, str(tmp_path), "--format", "json", "--out", str(tmp_path / "p.json"))
    assert result.exit_code == 0, result.output
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads((tmp_path / "p.json").read_text())}
    assert set(rows) == {"take.wav", "take.m4a", "take.webm", "take.3gp"}
    assert all(r["status"] == "ok" for r in rows.values())
    # AAC and Opus at 32 kbit/s keep the label; AMR (a 0-4 kHz call codec) at least gets one.
    assert rows["take.m4a"]["label"] == rows["take.webm"]["label"] == rows["take.wav"]["label"] == "angry"


def test_clipped_audio_is_repaired_unless_kept(trained_run, clips):
    probabilities = {}
    for flag in ("--repair-clipping", "--keep-clipping"):
        result = _predict(trained_run, str(clips / "loud.wav"), "--format", "json", flag)
        assert result.exit_code == 0, result.output
        row = json.loads(result.stdout)[0]
        assert [w["kind"] for w in recording_warnings(row["warnings"])] == ["clipped"]
        probabilities[flag] = row["probabilities"]
    repaired, kept = probabilities.values()
    assert max(abs(repaired[k] - kept[k]) for k in kept) > 1e-4


def test_a_long_wait_before_the_speech_is_shortened_unless_kept(trained_run, tmp_path):
    rng = np.random.default_rng(9)
    waiting = np.concatenate([rng.standard_normal(5 * 16000) * 1e-3, emotional_tone("05", 1, rng, seconds=1.0)])
    sf.write(tmp_path / "waiting.wav", waiting.astype(np.float32), 16000)
    timelines = {}
    for flag in ("--trim-silence", "--keep-silence"):
        result = _predict(trained_run, str(tmp_path / "waiting.wav"), "--format", "json", "--window", "3", flag)
        assert result.exit_code == 0, result.output
        timelines[flag] = json.loads(result.stdout)[0].get("timeline") or []
    # 6 s with 3 s windows is a long recording; 1 s of the wait and the clip are one input, with no timeline.
    assert len(timelines["--keep-silence"]) > 1 and timelines["--trim-silence"] == []


def test_channel_labels_one_party_of_a_two_channel_call(trained_run, tmp_path):
    """--channel: each party of a call on its own channel gets its own label; the mix would blend them."""
    rng = np.random.default_rng(4)
    left, right = emotional_tone("05", 1, rng, seconds=1.5), emotional_tone("04", 1, rng, seconds=1.5)
    sf.write(tmp_path / "call.wav", np.stack([left, right], axis=1), 16000)
    sf.write(tmp_path / "right.wav", right, 16000)

    def rows(*args):
        result = _predict(trained_run, str(tmp_path / "call.wav"), str(tmp_path / "right.wav"), "--format", "json", *args)
        return {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(result.stdout)}

    mixed, second, third = rows(), rows("--channel", "2"), rows("--channel", "3")
    alone = mixed["right.wav"]["probabilities"]
    assert second["call.wav"]["probabilities"] == pytest.approx(alone, abs=1e-5)
    assert mixed["call.wav"]["probabilities"] != pytest.approx(alone, abs=1e-3)
    assert second["right.wav"]["status"] == "bad_input"  # a mono file has only channel 1: skipped, named
    assert third["call.wav"]["status"] == "bad_input" and third["call.wav"]["error"] == "has 2 channels, so no channel 3"
    assert _predict(trained_run, str(tmp_path / "call.wav"), "--channel", "0").exit_code != 0


def test_a_call_with_the_parties_taking_turns_on_their_channels_is_flagged(trained_run, tmp_path):
    """Mixed, the label belongs to no one: a `separate_parties` warning names the channels; with --channel none."""
    rng = np.random.default_rng(5)
    pause = np.zeros(24000, np.float32)
    left = np.concatenate([emotional_tone("05", 1, rng, seconds=1.5), pause])
    right = np.concatenate([pause, emotional_tone("04", 1, rng, seconds=1.5)])
    sf.write(tmp_path / "turns.wav", np.stack([left, right], axis=1), 16000)
    mixed = _predict(trained_run, str(tmp_path / "turns.wav"), "--format", "json")
    (row,) = json.loads(mixed.stdout)
    assert [(w["kind"], w["channels"]) for w in recording_warnings(row["warnings"])] == [("separate_parties", [1, 2])]
    assert "channels 1 and 2 each hold a voice" in mixed.stderr
    (one,) = json.loads(_predict(trained_run, str(tmp_path / "turns.wav"), "--format", "json", "--channel", "1").stdout)
    assert one["status"] == "ok" and recording_warnings(one["warnings"]) == []


def test_quiet_speech_in_an_8_bit_file_is_labelled_with_a_few_bits_warning(trained_run, tmp_path):
    """An 8-bit WAV of quiet speech at 48 kHz: the grid shows before resampling, so the label comes with `few_bits`;
    the same speech as 16-bit gets none."""
    wave = 0.1 * emotional_tone("05", 1, np.random.default_rng(7), seconds=1.5)  # peaks near -30 dBFS: about 3 bits
    wave = np.interp(np.arange(3 * wave.size) / 3, np.arange(wave.size), wave).astype(np.float32)  # 16 -> 48 kHz
    sf.write(tmp_path / "memo8.wav", wave, 48000, subtype="PCM_U8")
    sf.write(tmp_path / "memo16.wav", wave, 48000, subtype="PCM_16")
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(_predict(trained_run, str(tmp_path), "--format",
                                                                          "json").stdout)}
    assert rows["memo8.wav"]["status"] == "ok"
    assert [w["kind"] for w in recording_warnings(rows["memo8.wav"]["warnings"])] == ["few_bits"]
    assert rows["memo16.wav"]["status"] == "ok" and recording_warnings(rows["memo16.wav"]["warnings"]) == []


def test_each_channel_labels_every_party_of_a_call_in_one_pass(trained_run, tmp_path):
    """--each-channel: a row per channel, each as --channel N gives it; a mono file one row; a dead channel is
    skipped and named while the file's other channel is labelled; the CSV gains a `channel` column."""
    rng = np.random.default_rng(6)
    left, right = emotional_tone("05", 1, rng, seconds=1.5), emotional_tone("04", 1, rng, seconds=1.5)
    sf.write(tmp_path / "call.wav", np.stack([left, right], axis=1), 16000)
    sf.write(tmp_path / "half.wav", np.stack([left, np.zeros_like(left)], axis=1), 16000)  # one party never spoke
    sf.write(tmp_path / "mono.wav", right, 16000)
    files = [str(tmp_path / n) for n in ("call.wav", "half.wav", "mono.wav")]
    result = _predict(trained_run, *files, "--format", "json", "--each-channel")
    assert result.exit_code == 1  # the dead channel counts as a skipped input
    rows = {(r["path"].rsplit("/", 1)[-1], r.get("channel")): r for r in json.loads(result.stdout)}
    assert list(rows) == [("call.wav", 1), ("call.wav", 2), ("half.wav", 1), ("half.wav", 2), ("mono.wav", None)]
    for number in (1, 2):
        (alone,) = json.loads(_predict(trained_run, files[0], "--format", "json", "--channel", str(number)).stdout)
        assert rows[("call.wav", number)]["probabilities"] == pytest.approx(alone["probabilities"], abs=1e-5)
    assert rows[("half.wav", 1)]["status"] == "ok" and rows[("half.wav", 1)]["warnings"] == []
    assert rows[("half.wav", 2)]["status"] == "silent" and "channel 2" in result.stderr
    assert rows[("mono.wav", None)]["status"] == "ok"
    table = list(csv.reader(io.StringIO(_predict(trained_run, files[0], "--format", "csv", "--each-channel").stdout)))
    assert table[0][:3] == ["path", "channel", "status"] and [r[1] for r in table[1:]] == ["1", "2"]
    text = _predict(trained_run, files[0], "--each-channel").stdout
    assert "call.wav (channel 1)" in text and "call.wav (channel 2)" in text
    assert _predict(trained_run, files[0], "--each-channel", "--channel", "1").exit_code != 0


def test_csv_glob_keep_going_and_plot(trained_run, clips, tmp_path):
    result = _predict(trained_run, str(clips / "**" / "*.*"), "--format", "csv", "--keep-going", "--plot", str(tmp_path))
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0][:7] == ["path", "status", "error", "label", "duration_s", "segments", "warnings"]
    assert len(table) == 10 and sorted(row[1] for row in table[1:]) == ["corrupt"] + ["ok"] * 7 + ["silent"]
    recording = {row[0].rsplit("/", 1)[-1]: row[6].replace("unfamiliar", "").strip(";, ") for row in table[1:]}
    assert {path: kinds for path, kinds in recording.items() if kinds} == {"loud.wav": "clipped"}
    assert (tmp_path / "long.timeline.png").stat().st_size > 5000


def test_table_and_bad_arguments(trained_run, clips, tmp_path):
    one = sorted(clips.glob("*-01.wav"))[0]
    result = _predict(trained_run, str(one))
    assert result.exit_code == 0 and one.name in result.output and "surprised" in result.output
    nothing = _predict(trained_run, str(tmp_path / "nope.wav"), str(clips / "broken.wav"))
    assert nothing.exit_code == 1 and nothing.stdout == ""  # no empty table header when every input fails
    assert "skipped" in nothing.output and "nope.wav: not found" in nothing.output
    single = _predict(trained_run, str(one), "--out", str(tmp_path / "one.txt"))
    assert "1 prediction written" in single.output
    missing_model = runner.invoke(app, ["predict", str(tmp_path / "none.specser"), str(one)])
    assert missing_model.exit_code == 2 and "model file not found" in missing_model.output
    assert _predict(trained_run, str(one), "--format", "xml").exit_code == 2


def test_predict_reproduces_metrics_json_of_a_model_trained_with_test_time_crops(synth_corpus, tmp_path):
    """train.tta_crops=3 is recorded in model.specser; `specser predict` uses the same three crops, so
    its probabilities are the run's own metrics.json ones. With one crop they would differ."""
    from specser.config import load_config
    from specser.inference.model_file import ModelFile
    from specser.inference.predictor import Predictor
    from specser.runs.train import train_run
    from tests.synth import FAST_OVERRIDES

    cfg = load_config(overrides=FAST_OVERRIDES + [f"data.path={synth_corpus}", "features.clip_seconds=0.8",
                                                  "train.tta_crops=3", "train.max_epochs=2"])
    train_run(cfg, tmp_path / "run", progress=False)  # 1 s clips, 0.8 s windows: three different crops each
    expected = json.loads((tmp_path / "run" / "metrics.json").read_text())["predictions"][:40]
    out = tmp_path / "predicted.json"
    result = runner.invoke(app, ["predict", str(tmp_path / "run" / "model.specser"), *[p["path"] for p in expected],
                                 "--format", "json", "--out", str(out), "--no-progress", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    got = {r["path"]: r for r in json.loads(out.read_text())}
    for p in expected:
        assert got[p["path"]]["label"] == p["predicted"]
        assert max(abs(got[p["path"]]["probabilities"][k] - v) for k, v in p["probabilities"].items()) < 1e-4

    one_crop = Predictor(ModelFile.load(tmp_path / "run" / "model.specser"), device="cpu", tta_crops=1)
    diffs = [max(abs(one_crop.predict(p["path"]).probabilities[k] - v) for k, v in p["probabilities"].items())
             for p in expected]
    assert max(diffs) > 1e-3  # the crops matter: this test would catch a predictor that ignored them


def test_speaker_stats_is_refused_by_a_model_without_speaker_normalisation(trained_run, clips):
    one = sorted(clips.glob("*.wav"))[0]
    result = _predict(trained_run, str(one), "--speaker-stats", str(clips))
    assert result.exit_code != 0 and "does not use speaker statistics" in result.output
