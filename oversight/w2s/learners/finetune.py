"""`--method finetune`: a local Hugging Face model with a two-way classification head, trained on soft labels.

LoRA (peft, default) or full fine-tuning, on CPU or CUDA (bf16 where the card supports it). The
loss is the same as the probes': cross-entropy against soft labels, or `logconf` with its α
ramped over the training steps. Model selection keeps the checkpoint with the lowest loss against
the validation labels the caller passes in — for the student these are weak labels.

Everything heavy (torch, transformers, peft) is imported here only, and named in one error if
the `train` extra is missing.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from oversight.errors import ExtraMissingError, InputError
from oversight.w2s.learners.base import Predictor, check_spec
from oversight.w2s.learners.probe import cross_entropy, logconf_alpha


def _imports() -> tuple[Any, Any, Any]:
    try:
        import peft
        import torch
        import transformers
    except ImportError as exc:
        raise ExtraMissingError(exc.name or "torch", "train") from None
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft)\.")
    transformers.utils.logging.set_verbosity_error()  # "newly initialised head" is expected: we train it
    transformers.utils.logging.disable_progress_bar()
    return torch, transformers, peft


def resolve_device(torch: Any, device: str, dtype: str) -> tuple[str, Any]:
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda: no CUDA device is available")
    chosen = "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
    if dtype == "bfloat16" or (dtype == "auto" and chosen == "cuda" and torch.cuda.is_bf16_supported()):
        return chosen, torch.bfloat16
    return chosen, torch.float32


class FinetuneLearner:
    def __init__(self, model_dir: str, texts: list[str], options: Any) -> None:
        check_spec(model_dir, "finetune")
        path = Path(model_dir).expanduser()
        self.torch, self.transformers, self.peft = _imports()
        self.name = model_dir
        self.path = path
        self.options = options
        self.invalid = 0
        self.device, self.dtype = resolve_device(self.torch, options.device, options.dtype)
        self.tokenizer = self.transformers.AutoTokenizer.from_pretrained(path)
        if self.tokenizer.pad_token is None:
            fallback = self.tokenizer.eos_token or self.tokenizer.unk_token
            if fallback is None:
                raise InputError(f"{model_dir}: the tokenizer has no pad, end-of-sequence or unknown token to pad with")
            self.tokenizer.pad_token = fallback
        self.input_ids: list[list[int]] = self.tokenizer(texts, truncation=True, max_length=options.max_length)["input_ids"]

    def _model(self, seed: int) -> Any:
        torch = self.torch
        torch.manual_seed(seed)
        model = self.transformers.AutoModelForSequenceClassification.from_pretrained(self.path, num_labels=2, dtype=self.dtype)
        model.config.pad_token_id = self.tokenizer.pad_token_id
        if self.options.finetune == "lora":
            config = self.peft.LoraConfig(
                task_type=self.peft.TaskType.SEQ_CLS, r=self.options.lora_r, lora_alpha=2 * self.options.lora_r,
                lora_dropout=0.0, target_modules="all-linear",
            )  # fmt: skip
            model = self.peft.get_peft_model(model, config)
        return model.to(self.device)

    def _logits(self, model: Any, rows: np.ndarray) -> Any:
        batch = self.tokenizer.pad({"input_ids": [self.input_ids[r] for r in rows]}, return_tensors="pt")
        out = model(input_ids=batch["input_ids"].to(self.device), attention_mask=batch["attention_mask"].to(self.device))
        return out.logits.float()

    def _predict(self, model: Any, rows: np.ndarray) -> np.ndarray:
        model.eval()
        parts = []
        with self.torch.no_grad():
            for start in range(0, len(rows), 2 * self.options.batch_size):
                logits = self._logits(model, rows[start : start + 2 * self.options.batch_size])
                parts.append(self.torch.softmax(logits, dim=-1)[:, 1].cpu().numpy())
        return np.concatenate(parts) if parts else np.array([])

    def fit(
        self, rows: np.ndarray, targets: np.ndarray, *, val_rows: np.ndarray | None, val_targets: np.ndarray | None, loss: str, seed: int
    ) -> Predictor:
        torch, opts = self.torch, self.options
        model = self._model(seed)
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=opts.learning_rate)
        steps_per_epoch = math.ceil(len(rows) / opts.batch_size)
        total = opts.epochs * steps_per_epoch
        generator = torch.Generator().manual_seed(seed)
        target_t = torch.tensor(targets, dtype=torch.float32)
        best: tuple[float, dict[str, Any] | None] = (math.inf, None)
        self.selection: dict[str, Any] = {"val_losses": [], "best_epoch": None}
        step = 0
        for epoch in range(opts.epochs):
            model.train()
            for batch in torch.randperm(len(rows), generator=generator).split(opts.batch_size):
                logp = torch.log_softmax(self._logits(model, rows[batch.numpy()]), dim=-1)
                t = target_t[batch].to(self.device)
                if loss == "logconf":
                    alpha = logconf_alpha(step, total, opts.logconf_alpha, opts.logconf_warmup)
                    p = logp[:, 1].exp().detach()
                    t = (1 - alpha) * t + alpha * (p > p.median()).float()
                objective = -(t * logp[:, 1] + (1 - t) * logp[:, 0]).mean()
                optimizer.zero_grad()
                objective.backward()
                optimizer.step()
                step += 1
            if val_rows is not None and val_targets is not None:
                val_loss = cross_entropy(self._predict(model, val_rows), val_targets)
                self.selection["val_losses"].append(val_loss)
                if val_loss < best[0]:
                    self.selection["best_epoch"] = epoch
                    best = (val_loss, {k: v.detach().to("cpu", copy=True) for k, v in _trainable_state(model).items()})
        if best[1] is not None:
            model.load_state_dict(best[1], strict=False)
        return lambda r: self._predict(model, r)


def _trainable_state(model: Any) -> dict[str, Any]:
    """The parameters that training changes (LoRA adapters and the head, or everything): what a checkpoint must keep."""
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v for k, v in model.state_dict().items() if k in names}
