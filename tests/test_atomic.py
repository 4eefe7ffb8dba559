"""Atomic writes: a failure mid-write leaves the old file (or none), never a half-written one."""

import json
import os

import pytest

from specser.atomic import atomic_path, atomic_write_json, atomic_write_text


def test_a_failed_write_leaves_the_old_content_and_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "metrics.json"
    atomic_write_json(target, {"accuracy": 0.5})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('{"accuracy": 0.')  # half of the new content, then the process "dies"
            raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"accuracy": 0.5}
    assert [p.name for p in target.parent.iterdir()] == ["metrics.json"]


def test_written_files_have_normal_permissions(tmp_path):
    atomic_write_text(tmp_path / "report.md", "# hi\n")
    mode = (tmp_path / "report.md").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask and (tmp_path / "report.md").read_text() == "# hi\n"
