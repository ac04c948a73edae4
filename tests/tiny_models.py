"""Tiny randomly initialised Hugging Face models built in code (no downloads), for the finetune path."""

from __future__ import annotations

import re
from pathlib import Path


def word_tokenizer(texts: list[str], *, cls_first: bool = False):
    """Whole words as tokens; `cls_first` puts [CLS] in front, where an encoder's pooler reads."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[EOS]": 3}
    for text in texts:
        for word in re.findall(r"\w+|[^\w\s]", text.lower()):
            vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.normalizer = normalizers.Lowercase()
    if cls_first:
        core.post_processor = processors.TemplateProcessing(single="[CLS] $A", special_tokens=[("[CLS]", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", eos_token="[EOS]")


def tiny_llama(path: Path, texts: list[str], *, hidden: int = 32) -> Path:
    """A 2-layer Llama (causal LM) saved with its tokenizer: the shape of the models --method finetune is meant for."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = word_tokenizer(texts)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=512, pad_token_id=0, eos_token_id=3, bos_token_id=2,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def tiny_bert(path: Path, texts: list[str], *, hidden: int = 32) -> Path:
    """A 2-layer BERT encoder saved with its tokenizer."""
    from transformers import BertConfig, BertModel

    tokenizer = word_tokenizer(texts, cls_first=True)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=512, pad_token_id=0,
    )  # fmt: skip
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
