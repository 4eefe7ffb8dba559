"""The paper's image mode: spectrogram PNGs named ``[prefix]-[label]_new.png`` and their Dataset.

The paper renders each utterance to a PNG, lists files by that name pattern,
parses the label from the name, and feeds 224x224 RGB tensors normalised with
ImageNet statistics to the CNN. This module does exactly that, so the paper's
pipeline can be compared with the native one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SUFFIX = "_new.png"


def image_name(utt_id: str, label: str) -> str:
    """``<utt_id>-<label>_new.png``, with path separators in the id made safe."""
    if "-" in label or "_" in label or "/" in label:
        raise ValueError(f"label {label!r} cannot be written into an image name (no '-', '_' or '/')")
    return f"{utt_id.replace('/', '__')}-{label}{SUFFIX}"


def parse_image_name(name: str) -> tuple[str, str]:
    """Inverse of `image_name`: (prefix, label). Raises ValueError on other names."""
    if not name.endswith(SUFFIX) or "-" not in name:
        raise ValueError(f"{name}: not a [prefix]-[label]{SUFFIX} name")
    prefix, label = name[: -len(SUFFIX)].rsplit("-", 1)
    if not prefix or not label:
        raise ValueError(f"{name}: empty prefix or label")
    return prefix, label


def spectrogram_rgb(logmel_db: np.ndarray, cmap: str = "magma", top_db: float = 80.0) -> np.ndarray:
    """Colour-map a (n_mels, frames) dB array into (n_mels, frames, 3) uint8, low frequencies at the bottom."""
    import matplotlib

    peak = float(logmel_db.max())
    scaled = np.clip((logmel_db - (peak - top_db)) / top_db, 0.0, 1.0)[::-1]
    return (matplotlib.colormaps[cmap](scaled)[..., :3] * 255).astype(np.uint8)


def render_png(logmel_db: np.ndarray, path: Path, cmap: str = "magma", top_db: float = 80.0) -> None:
    """Write `spectrogram_rgb` as a PNG (lossless: reading it back gives the same pixels)."""
    from specser.atomic import atomic_path

    with atomic_path(Path(path)) as tmp:
        Image.fromarray(spectrogram_rgb(logmel_db, cmap, top_db)).save(tmp, format="PNG")


def find_images(root: Path) -> list[Path]:
    """Files in `root` matching the ``*-*_new.png`` pattern, sorted."""
    return sorted(p for p in Path(root).glob(f"*{SUFFIX}") if "-" in p.name)


def image_transform(image: Image.Image, size: int = 224) -> torch.Tensor:
    """Resize to size x size, to a [0, 1] tensor (3, H, W), ImageNet-normalise."""
    image = image.convert("RGB").resize((size, size), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (x - mean) / std


class SpectrogramImageDataset(Dataset):
    """PNG spectrograms whose labels come from their file names (the paper's PrecomputedBorders).

    Args:
        files: the PNG files; use `find_images` to list a folder.
        labels: class names in index order; a file whose label is not among them is an error.
        size: square side after resizing.
    """

    def __init__(self, files: list[Path], labels: list[str], size: int = 224):
        self.index = {label: i for i, label in enumerate(labels)}
        self.items = []
        for f in files:
            _, label = parse_image_name(Path(f).name)
            if label not in self.index:
                raise ValueError(f"{f}: unknown label {label!r}; known: {', '.join(labels)}")
            self.items.append((Path(f), self.index[label]))
        self.size = size

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        path, target = self.items[i]
        with Image.open(path) as image:
            return image_transform(image, self.size), target


def render_images(
    items: list[tuple[str, str, str]], features: dict[str, np.ndarray], out_dir: Path, cmap: str, top_db: float,
    progress: bool = True,
) -> dict[str, Path]:
    """Render PNGs for (utt_id, label, content key) items that are not rendered yet.

    The content key goes into the prefix, so a changed audio file never reuses a stale image.

    Returns:
        utt_id -> PNG path.
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    paths = {}
    todo = []
    for utt_id, label, key in items:
        path = out_dir / image_name(f"{utt_id}.{key[:10]}", label)
        paths[utt_id] = path
        if not path.exists():
            todo.append((utt_id, path))
    for utt_id, path in tqdm(todo, desc="PNG images", unit="file", disable=not (todo and progress)):
        render_png(features[utt_id], path, cmap=cmap, top_db=top_db)
    return paths
