"""Frozen features for weak-to-strong probes, computed once per (example, model) and cached.

Sources: `bow` (a deliberately weak hashed bag of words), `local/smollm2-135m` (mean-pooled
llama.cpp embeddings of the embedded model). Other sources of the issue (MiniLM, OpenAI-compatible
embeddings) plug in here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from oversight.errors import InputError

BOW_DIM = 1024
_WORD = re.compile(r"[a-z0-9']+")


def bow_features(texts: list[str], dim: int = BOW_DIM) -> np.ndarray:
    """Hashed unigram and bigram counts (log-scaled): a weak supervisor by design."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        words = _WORD.findall(text.lower())
        for gram in words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]:
            h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=4).digest(), "little")
            out[i, h % dim] += 1.0
    return np.log1p(out)


class _LocalEmbedder:
    _instance: _LocalEmbedder | None = None

    def __init__(self) -> None:
        import llama_cpp

        from oversight.models._llama_cpp import embedded_gguf_path

        self.llm = llama_cpp.Llama(
            model_path=str(embedded_gguf_path()), embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN, n_ctx=2048, verbose=False
        )

    @classmethod
    def get(cls) -> _LocalEmbedder:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.array([self.llm.embed(t) for t in texts], dtype=np.float32)


SOURCES: dict[str, Callable[[list[str]], np.ndarray]] = {
    "bow": bow_features,
    "local/smollm2-135m": lambda texts: _LocalEmbedder.get()(texts),
}


def features(source: str, texts: list[str], cache_dir: Path | None = None) -> np.ndarray:
    """Features for `texts`; with `cache_dir`, each (source, text) is computed once and kept on disk."""
    if source not in SOURCES:
        raise InputError(f"feature source {source!r}: choose one of {', '.join(SOURCES)}")
    if cache_dir is None:
        return SOURCES[source](texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha256(f"{source}\x1f{t}".encode()).hexdigest() for t in texts]
    missing = [i for i, k in enumerate(keys) if not (cache_dir / f"{k}.npy").exists()]
    if missing:
        computed = SOURCES[source]([texts[i] for i in missing])
        for i, row in zip(missing, computed, strict=True):
            np.save(cache_dir / f"{keys[i]}.npy", row)
    return np.stack([np.load(cache_dir / f"{k}.npy") for k in keys])
