"""Hugging Face configs: build a transformers model with random weights from a config.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, first_line
from .inputs import InputTemplate
from .result import ModelInfo
from .vocab import ModelFormat

if TYPE_CHECKING:
    from .loading import LoadedModel

#: Build HF models on the meta device when fp32 weights would take more than this share of
#: the memory available now: counting works there, and timing would only thrash.
META_MEMORY_SHARE = 0.4


def load_hf_config(path: Path, source: str, *, trust: bool = False) -> LoadedModel:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(source, "is not UTF-8 text, so not a config.json") from None
    except json.JSONDecodeError as exc:
        raise InputError(source, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(raw, dict) or "model_type" not in raw:
        raise InputError(source, "is not a Hugging Face config: it has no 'model_type'")
    try:
        import transformers
    except ImportError:
        raise InputError(source, "Hugging Face configs need the optional extra: pip install 'tradeoff-studio[hf]'") from None
    import psutil
    import torch

    try:
        config = transformers.AutoConfig.for_model(**raw)
    except Exception as exc:
        raise InputError(source, f"transformers cannot read this config: {first_line(exc)}") from None
    arch = (raw.get("architectures") or [None])[0]
    cls = getattr(transformers, arch, None) if arch else None
    if arch and cls is None:
        raise InputError(source, f"architecture {arch!r} is not in the installed transformers {transformers.__version__}")
    try:
        with torch.device("meta"):
            meta_model = cls(config) if cls is not None else transformers.AutoModel.from_config(config)
    except Exception as exc:
        raise InputError(source, f"transformers could not build {arch or raw['model_type']}: {first_line(exc)}") from None
    n_bytes = sum(p.numel() * 4 for p in meta_model.parameters())
    available = psutil.virtual_memory().available
    on_meta = n_bytes > META_MEMORY_SHARE * available
    warnings: list[str] = []
    if on_meta:
        model = meta_model
        warnings.append(
            f"weights would need {n_bytes / 1e9:.1f} GB in fp32 and {available / 1e9:.1f} GB is free: "
            "analysed on the meta device; latency is not measured (the planner projects it)"
        )
    else:
        torch.manual_seed(0)
        model = cls(config) if cls is not None else transformers.AutoModel.from_config(config)
    model.eval()
    templates = hf_templates(config)
    from .loading import LoadedModel

    return LoadedModel(
        info=ModelInfo(name=str(raw.get("_name_or_path") or arch or raw["model_type"]) if False else (arch or raw["model_type"]),
                       source=source, format=ModelFormat.HF_CONFIG),
        templates=templates,
        module=model,
        keyword_inputs=True,
        on_meta=on_meta,
        warnings=warnings,
    )


def hf_templates(config: Any) -> tuple[InputTemplate, ...]:
    """Inputs an HF model is called with: pixel_values for vision configs, token ids otherwise."""
    main_input = getattr(config, "main_input_name", None)
    if hasattr(config, "num_channels") and (hasattr(config, "image_size") or hasattr(config, "hidden_sizes")):
        size = getattr(config, "image_size", 224)
        size = size[0] if isinstance(size, (list, tuple)) else size
        return (InputTemplate(name="pixel_values", dims=(1, int(config.num_channels), int(size), int(size)), dtype="float32"),)
    vocab = getattr(config, "vocab_size", None)
    max_pos = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None) or 512
    seq = min(128, int(max_pos))
    templates = [InputTemplate(name=main_input or "input_ids", dims=(1, seq), dtype="int64", seq_dim=1, vocab_size=vocab)]
    if getattr(config, "is_encoder_decoder", False):
        templates.append(InputTemplate(name="decoder_input_ids", dims=(1, seq), dtype="int64", seq_dim=1, vocab_size=vocab))
    return tuple(templates)


