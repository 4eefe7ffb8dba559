import numpy as np
import pytest
import torch
from PIL import Image

from specser.features.images import (IMAGENET_MEAN, IMAGENET_STD, SpectrogramImageDataset, find_images, image_name,
                                     image_transform, parse_image_name, render_png)


def test_name_round_trip():
    name = image_name("03-01-05-01-02-01-12.ab12", "angry")
    assert name == "03-01-05-01-02-01-12.ab12-angry_new.png"
    assert parse_image_name(name) == ("03-01-05-01-02-01-12.ab12", "angry")
    assert parse_image_name(image_name("happy/clip1.x", "happy"))[1] == "happy"
    with pytest.raises(ValueError):
        parse_image_name("clip.png")
    with pytest.raises(ValueError):
        image_name("x", "very-sad")


def test_dataset_lists_by_pattern_and_parses_labels(tmp_path):
    rng = np.random.default_rng(0)
    for i, label in enumerate(["sad", "happy", "sad"]):
        render_png(rng.normal(-40, 10, (40, 60)).astype(np.float32), tmp_path / image_name(f"u{i}", label))
    Image.new("RGB", (10, 10)).save(tmp_path / "unrelated.png")
    files = find_images(tmp_path)
    assert len(files) == 3
    ds = SpectrogramImageDataset(files, ["happy", "sad"], size=224)
    x, y = ds[0]
    assert x.shape == (3, 224, 224) and x.dtype == torch.float32
    assert sorted(t for _, t in ds.items) == [0, 1, 1]
    with pytest.raises(ValueError, match="unknown label"):
        SpectrogramImageDataset(files, ["happy"])


def test_imagenet_normalisation():
    white = Image.new("RGB", (50, 30), (255, 255, 255))
    x = image_transform(white, 224)
    expected = (1 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    torch.testing.assert_close(x[:, 100, 100], expected)


def test_png_puts_low_frequencies_at_the_bottom(tmp_path):
    db = np.full((40, 20), -80.0, dtype=np.float32)
    db[0] = 0.0  # loud lowest Mel band
    render_png(db, tmp_path / "a-x_new.png")
    pixels = np.asarray(Image.open(tmp_path / "a-x_new.png"))
    assert pixels.shape == (40, 20, 3)
    assert pixels[-1].mean() > pixels[0].mean()
