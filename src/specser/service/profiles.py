"""Voice profiles in the service: a user sends a few recordings of their own voice once, and their later
predictions run on the model adapted to them (`specser.inference.voice_profile`).

Profiles are files in one folder (`specser serve --profiles DIR`; by default a temporary folder that
lives as long as the service), so every worker process sees the same ones and a deleted profile is gone
for all of them. A profile's name is a random token: whoever holds it can use or delete the profile,
no one can list them. Past `max_profiles` the oldest are removed. Each process keeps the predictors of
the profiles it used last in memory, and checks the file still exists before every use.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from pathlib import Path

SUFFIX = ".profile"
NAME = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


class UnknownProfile(KeyError):
    """No profile of that name (never made, deleted, removed as the oldest, or from a restarted service)."""


def unavailable_reason(predictor) -> str | None:
    """Why the served model cannot take voice profiles, or None when it can."""
    if getattr(predictor, "backend", "") != "torch" or not hasattr(predictor, "model_file"):
        return (f"the served model runs on {getattr(predictor, 'backend', '?')}; voice profiles need a single .specser "
                "model on torch")
    from specser.inference.adapt import is_statistic

    if not any(is_statistic(k) for k in predictor.model_file.state_dict):  # from the weights: no network to build
        return "the served model has no BatchNorm layers, so there is nothing to adapt"
    return None


class ProfileStore:
    """Voice profiles of the model behind `base` (a torch `Predictor`), kept in `directory`.

    Args:
        min_inputs: clips or windows of speech a profile needs.
        prior: the trained statistics count as this many inputs (`specser.inference.adapt.adapt_to_logmels`).
        max_profiles: beyond this many files, the oldest are removed.
        cache_size: predictors kept in memory per process (each holds a copy of the network).
    """

    def __init__(self, directory: Path, base, min_inputs: int, prior: float = 0.0, max_profiles: int = 1000,
                 cache_size: int = 8):
        from specser.inference.voice_profile import model_digest

        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.base, self.min_inputs, self.prior = base, min_inputs, prior
        self.max_profiles, self.cache_size = max_profiles, cache_size
        self.digest = model_digest(base.model_file)
        self._cache: OrderedDict[str, tuple[float, object, object]] = OrderedDict()  # name -> (mtime, profile, predictor)
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        if not NAME.match(name or ""):
            raise UnknownProfile(name)
        return self.directory / f"{name}{SUFFIX}"

    def create(self, waves: list) -> tuple[str, object]:
        """A new profile from one speaker's checked recordings; its name and the `VoiceProfile`.
        Raises ValueError when they hold too little speech."""
        from specser.inference.voice_profile import make_profile

        profile = make_profile(self.base.model_file, waves, self.min_inputs, self.prior, device=str(self.base.device),
                               digest=self.digest)
        name = secrets.token_urlsafe(24)
        profile.save(self._path(name))
        self._remove_oldest()
        return name, profile

    def _remove_oldest(self) -> None:
        files = sorted(self.directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
        for path in files[:max(0, len(files) - self.max_profiles)]:
            path.unlink(missing_ok=True)

    def _load(self, path: Path):
        """The `VoiceProfile` at `path`; `UnknownProfile` when it is gone, damaged or made for another model."""
        from specser.inference.voice_profile import ProfileError, VoiceProfile

        try:
            profile = VoiceProfile.load(path)
        except (FileNotFoundError, ProfileError):
            raise UnknownProfile(path.stem) from None
        if profile.model != self.digest:
            raise UnknownProfile(path.stem)
        return profile

    def describe(self, name: str):
        """The `VoiceProfile` of `name` alone, without building its predictor. Raises `UnknownProfile`."""
        path = self._path(name)
        with self._lock:
            cached = self._cache.get(name)
        return cached[1] if cached and path.exists() else self._load(path)

    def get(self, name: str) -> tuple[object, object]:
        """The `VoiceProfile` of `name` and a predictor with it applied. Raises `UnknownProfile`."""
        from specser.inference.predictor import Predictor

        path = self._path(name)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            with self._lock:
                self._cache.pop(name, None)
            raise UnknownProfile(name) from None
        with self._lock:
            cached = self._cache.get(name)
            if cached and cached[0] == mtime:
                self._cache.move_to_end(name)
                return cached[1], cached[2]
        profile = self._load(path)  # deleted meanwhile, damaged, or made for another model: UnknownProfile
        model_file, stats = profile.apply(self.base.model_file, self.digest)
        base = self.base
        predictor = Predictor(model_file, device=str(base.device), tta_crops=base.tta_crops,
                              max_duration_s=base.max_duration_s, window_s=base.window_s, hop_s=base.hop_s,
                              min_duration_s=base.min_duration_s, min_speech_s=base.min_speech_s,
                              min_voiced_s=base.min_voiced_s)
        predictor.speaker_stats = stats
        with self._lock:
            self._cache[name] = (mtime, profile, predictor)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return profile, predictor

    def delete(self, name: str) -> None:
        """Remove a profile. Raises `UnknownProfile`."""
        path = self._path(name)
        with self._lock:
            self._cache.pop(name, None)
        try:
            path.unlink()
        except FileNotFoundError:
            raise UnknownProfile(name) from None
