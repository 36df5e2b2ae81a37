"""Hugging Face configs: build a transformers model with random weights from a config.json.

A config.json is untrusted input, so it is checked before transformers sees it:

* (checked in profiler/hf_checks.py) it is a JSON object of at most `MAX_CONFIG_BYTES`, nested at most `MAX_DEPTH` deep;
* `model_type` is a string that the installed transformers knows (`CONFIG_MAPPING`);
* `architectures`, if present, is a list of class names; the first is used, and it must name a
  model class of transformers (a `PreTrainedModel` subclass, looked up in the auto mappings or
  through transformers' lazy attributes, whose `config_class` fits the config). No other
  attribute of transformers is ever fetched and called;
* the size fields (`SIZE_LIMITS`: layers, hidden sizes, heads, vocabulary, positions, image and
  patch sizes, channels, experts…) are whole numbers within their bounds, wherever they appear
  (sub-configs included), and the model the config describes stays within `MAX_LAYERS` layers
  per stack, `MAX_PARAMS` estimated parameters, `MAX_MODULES` estimated modules and
  `MAX_PATCHES` image patches, so a build never runs for minutes;
* `*_implementation` fields name a built-in implementation, never a Hub kernel (`org/repo`).

Custom code: a config whose `auto_map` names an `AutoConfig` or `AutoModel*` class makes
transformers import the folder's own Python files (`modeling_*.py`, `configuration_*.py`).
Without trust that is refused with `details={"needs_trust": True}`; with trust the model is built
through transformers' auto classes with `trust_remote_code=True`, from the local folder only.
Entries for tokenizers and processors are never used here and are dropped.

Inputs (`hf_templates`) follow the built model's forward signature: token ids where it takes
`input_ids`, else its audio `main_input_name` (`input_features`, `input_values`); an
encoder-decoder adds `decoder_input_ids`. A model built on the meta device runs its
mixture-of-experts layers as `batched_mm`, the one experts implementation that runs there.

While transformers runs, the Hub is switched to offline mode and `input()` raises, so nothing is
downloaded and transformers' interactive "run custom code? [y/N]" prompt can never read stdin.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, first_line
from .hf_checks import (
    CLASS_NAME,
    IMAGE_MAX,
    POSITIONS_MAX,
    SIZE_LIMITS,
    check_estimate,
    check_fields,
    custom_code,
    read_json,
    short,
)
from .inputs import InputTemplate
from .result import ModelInfo
from .vocab import ModelFormat

if TYPE_CHECKING:
    from .loaded_model import LoadedModel

#: Build HF models on the meta device when fp32 weights would take more than this share of
#: the memory available now: counting works there, and timing would only thrash.
META_MEMORY_SHARE = 0.4

# --- the entry point ------------------------------------------------------------------------


def load_hf_config(path: Path, source: str, *, trust: bool = False) -> LoadedModel:
    raw = read_json(path, source)
    custom = custom_code(raw, path, source)
    check_fields(raw, source)
    if custom and not trust:
        files = ", ".join(sorted({f"{module}.py" for module in custom.values()}))
        raise InputError(
            source,
            f"the folder carries its own Python code ({files}) that transformers would run to build the model; "
            "pass --trust only if you trust where it came from",
            details={"needs_trust": True},
        )
    transformers = _import_transformers(source)
    model_type = raw["model_type"]
    if not custom and model_type not in transformers.CONFIG_MAPPING:
        raise InputError(
            source,
            f"model_type {short(model_type)} is unknown to the installed transformers {transformers.__version__}",
        )
    archs = raw.get("architectures") or []
    arch: str | None = archs[0] if archs else None
    with _sealed():
        if custom:
            config, build = _custom_builder(transformers, path, source, raw["auto_map"], arch)
        else:
            config, build = _builtin_builder(transformers, raw, source, arch)
        check_estimate(_config_dict(config, source), source)
        return _build(transformers, config, build, source, arch or str(model_type))


# --- building -------------------------------------------------------------------------------


Builder = Any  # () -> torch.nn.Module


def _builtin_builder(transformers: Any, raw: dict[str, Any], source: str, arch: str | None) -> tuple[Any, Builder]:
    try:
        config = transformers.AutoConfig.for_model(**raw)
    except Exception as exc:
        raise InputError(source, f"transformers cannot read this config: {first_line(exc)}") from None
    cls, build_config = _model_class(transformers, config, str(raw["model_type"]), arch, source)
    return config, lambda: cls(build_config)


def _model_class(transformers: Any, config: Any, model_type: str, arch: str | None, source: str) -> tuple[Any, Any]:
    """The transformers model class `arch` names (or the base model of `model_type`) and the config
    to build it with. The class must be a PreTrainedModel subclass that transformers' auto mappings
    pair with this model_type, or whose `config_class` takes this config (or its text sub-config,
    as AutoModel.from_config does). Nothing else of transformers is ever fetched or called."""
    from transformers.models.auto import modeling_auto

    known = _mapped_classes(modeling_auto)
    if arch is None:
        base = modeling_auto.MODEL_MAPPING_NAMES.get(model_type)
        names = (base,) if isinstance(base, str) else tuple(base or ())
        if not names:
            raise InputError(
                source,
                f"has no 'architectures', and transformers has no base model for "
                f"model_type {short(model_type)}: add the class to 'architectures'",
            )
        arch = names[0]
    try:
        cls = getattr(transformers, arch)  # a lazy attribute: imports transformers' own module for it
    except Exception:
        raise InputError(
            source, f"architecture {arch!r} is not in the installed transformers {transformers.__version__}"
        ) from None
    if type(cls).__name__ == "DummyObject":  # transformers' stand-in for a class whose packages are missing
        raise InputError(source, f"architecture {arch!r} needs packages that are not installed")
    if not (isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel)):
        raise InputError(source, f"architecture {arch!r} is not a transformers model class")
    config_class = getattr(cls, "config_class", None)
    if isinstance(config_class, type):
        if isinstance(config, config_class):
            return cls, config
        text = _text_config(config)
        if isinstance(text, config_class):
            return cls, text
    if model_type in known.get(arch, ()):
        return cls, config
    for_types = sorted(known.get(arch, ()))
    if for_types:
        raise InputError(
            source,
            f"architecture {arch!r} is for model_type {', '.join(repr(t) for t in for_types[:4])}, not {model_type!r}",
        )
    raise InputError(
        source, f"architecture {arch!r} does not take a {type(config).__name__} (model_type {model_type!r})"
    )


def _text_config(config: Any) -> Any:
    try:
        return config.get_text_config()
    except Exception:
        return None


_MAPPED: dict[str, set[str]] | None = None


def _mapped_classes(modeling_auto: Any) -> dict[str, set[str]]:
    """Every model class name in transformers' auto mappings -> the model_types it serves."""
    global _MAPPED
    if _MAPPED is None:
        mapped: dict[str, set[str]] = {}
        for attr in dir(modeling_auto):
            table = getattr(modeling_auto, attr)
            if not (attr.endswith("_MAPPING_NAMES") and isinstance(table, Mapping)):
                continue
            for model_type, names in table.items():
                for name in (names,) if isinstance(names, str) else tuple(names or ()):
                    if isinstance(name, str):
                        mapped.setdefault(name, set()).add(str(model_type))
        _MAPPED = mapped
    return _MAPPED


def _custom_builder(
    transformers: Any, path: Path, source: str, auto_map: dict[str, Any], arch: str | None
) -> tuple[Any, Builder]:
    """Trusted: the folder's own classes, through transformers' auto classes, from the folder only."""
    from transformers.models.auto.auto_factory import _BaseAutoModelClass

    if path.name != "config.json":
        raise InputError(
            source,
            "a config with its own code must be opened as the folder holding it, with the config named config.json",
        )
    folder = path.parent.resolve()
    model_keys = [k for k in auto_map if k.startswith("AutoModel") or k == "AutoBackbone"]
    if not model_keys:
        raise InputError(source, "auto_map names no AutoModel class to build")
    by_class = [k for k in model_keys if str(auto_map[k]).rsplit(".", 1)[-1] == arch]
    key = (by_class or (["AutoModel"] if "AutoModel" in model_keys else model_keys))[0]
    auto_cls = getattr(transformers, key, None) if CLASS_NAME.fullmatch(key) else None
    if not (isinstance(auto_cls, type) and issubclass(auto_cls, _BaseAutoModelClass)):
        raise InputError(source, f"auto_map key {short(key)} is not an auto class of transformers")
    try:
        config = transformers.AutoConfig.from_pretrained(str(folder), trust_remote_code=True, local_files_only=True)
        config.name_or_path = str(folder)  # the code is looked up here, never under a name the file chose
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            source, f"transformers cannot read this config: {type(exc).__name__}: {first_line(exc)}"
        ) from None
    return config, lambda: auto_cls.from_config(config, trust_remote_code=True)


def _build(transformers: Any, config: Any, build: Builder, source: str, name: str) -> LoadedModel:
    import psutil
    import torch

    try:
        with torch.device("meta"):
            meta_model = build()
    except InputError:
        raise
    except Exception as exc:
        raise InputError(source, f"transformers could not build {name}: {first_line(exc)}") from None
    if not isinstance(meta_model, torch.nn.Module):
        raise InputError(source, f"building {name} gave a {type(meta_model).__name__}, not a model")
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
        del meta_model
        torch.manual_seed(0)
        try:
            model = build()
        except Exception as exc:
            raise InputError(source, f"transformers could not build {name}: {first_line(exc)}") from None
    if on_meta:
        _experts_for_meta(model)
    model.eval()
    templates = hf_templates(config, source, model)
    from .loaded_model import LoadedModel

    return LoadedModel(
        info=ModelInfo(name=name, source=source, format=ModelFormat.HF_CONFIG),
        templates=templates,
        module=model,
        keyword_inputs=True,
        on_meta=on_meta,
        warnings=warnings,
    )


def _experts_for_meta(model: Any) -> None:
    """Mixture-of-experts layers on the meta device: transformers' default `grouped_mm` experts
    hit torch's meta kernel, which takes bf16 only, and the `eager` loop needs the routing's
    data. `batched_mm` runs on meta and multiplies the same routed rows (tokens x top_k), so the
    count is the same. A model without switchable experts is left as it is."""
    setter = getattr(model, "set_experts_implementation", None)
    can_set = getattr(model, "_can_set_experts_implementation", None)
    if not (callable(setter) and callable(can_set)):
        return
    try:
        if can_set() and getattr(model.config, "_experts_implementation", None) != "batched_mm":
            setter("batched_mm")
    except Exception:  # an older transformers, or a model whose experts do not switch: as built
        pass


def hf_templates(config: Any, source: str = "config.json", model: Any = None) -> tuple[InputTemplate, ...]:
    """Inputs an HF model is called with: pixel_values for vision configs, token ids, or audio
    (`input_features`, `input_values`) where the model's forward takes no token ids; plus
    `decoder_input_ids` for an encoder-decoder (`config.is_encoder_decoder`) whose forward takes
    them. `model` (the built module) supplies `main_input_name` and the forward signature.
    Sizes that are not usable (image_size 200000, a vocabulary of -1…) are a one-line InputError."""
    if hasattr(config, "num_channels") and (hasattr(config, "image_size") or hasattr(config, "hidden_sizes")):
        size = getattr(config, "image_size", 224)
        size = size[0] if isinstance(size, list | tuple) and size else size
        channels = _template_int(config.num_channels, "num_channels", 1, SIZE_LIMITS["num_channels"][1], source)
        side = _template_int(size, "image_size", 1, IMAGE_MAX, source)
        return (InputTemplate(name="pixel_values", dims=(1, channels, side, side), dtype="float32"),)
    params = _forward_params(model)
    main_input = _main_input(config, model, params)
    vocab = _vocab(config, "vocab_size", source)
    if main_input in _AUDIO_INPUTS:
        templates = [_audio_template(config, main_input, model, source)]
    else:
        seq = _default_seq(config, _POSITION_FIELDS, source)
        templates = [InputTemplate(name=main_input, dims=(1, seq), dtype="int64", seq_dim=1, vocab_size=vocab)]
    if getattr(config, "is_encoder_decoder", False) and (params is None or "decoder_input_ids" in params):
        # The decoder gets as many tokens as the encoder (128 at most, within its positions);
        # --seq-len sets both, --input-shape decoder_input_ids=… the decoder alone.
        seq = _default_seq(config, ("max_target_positions", *_POSITION_FIELDS), source)
        decoder_vocab = _vocab(config, "decoder_vocab_size", source) or vocab
        templates.append(
            InputTemplate(name="decoder_input_ids", dims=(1, seq), dtype="int64", seq_dim=1, vocab_size=decoder_vocab)
        )
    return tuple(templates)


#: Default token length: 128, or fewer where the model has fewer positions.
DEFAULT_SEQ_LEN = 128
#: Default audio: 1 s of 16 kHz samples (`input_values`); 1000 frames of 10 ms (`input_features`
#: laid out [batch, frames, features]). Whisper-style encoders with fixed positions
#: (`max_source_positions` and `num_mel_bins`) take exactly the frames their positions cover.
DEFAULT_SAMPLE_RATE = 16_000
DEFAULT_FRAMES = 1000
_POSITION_FIELDS = ("max_position_embeddings", "n_positions")
_AUDIO_INPUTS = ("input_features", "input_values")
_FEATURE_FIELDS = ("num_mel_bins", "feature_size", "input_feat_per_channel")


def _forward_params(model: Any) -> frozenset[str] | None:
    """Names the model's forward takes, or None when unknown (no model, or **kwargs only)."""
    import inspect

    if model is None:
        return None
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return None
    named = frozenset(n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
    return named or None


def _main_input(config: Any, model: Any, params: frozenset[str] | None) -> str:
    """Token ids when the forward takes them; else the model's own main input, when it is
    audio; else what the config names, or input_ids."""
    if params is not None and "input_ids" in params:
        return "input_ids"
    for owner in (model, config):
        name = getattr(owner, "main_input_name", None)
        if isinstance(name, str) and name.isidentifier() and (params is None or name in params):
            if owner is config or name in _AUDIO_INPUTS or name.endswith("_ids"):
                return name
    return "input_ids"


def _vocab(config: Any, field: str, source: str) -> int | None:
    value = getattr(config, field, None)
    return None if value is None else _template_int(value, field, 1, SIZE_LIMITS["vocab_size"][1], source)


def _default_seq(config: Any, fields: tuple[str, ...], source: str) -> int:
    for field in fields:
        value = getattr(config, field, None)
        if value is not None:
            return min(DEFAULT_SEQ_LEN, _template_int(value, field, 1, POSITIONS_MAX, source))
    return DEFAULT_SEQ_LEN


def _audio_template(config: Any, name: str, model: Any, source: str) -> InputTemplate:
    """Audio inputs. Their lengths are not a token sequence: --seq-len leaves them alone and
    --input-shape sets them."""
    if name == "input_values":
        rate = getattr(config, "sampling_rate", None) or DEFAULT_SAMPLE_RATE
        samples = _template_int(rate, "sampling_rate", 1, POSITIONS_MAX, source)
        return InputTemplate(name=name, dims=(1, samples), dtype="float32")
    features = _feature_count(config, source)
    positions = getattr(config, "max_source_positions", None)
    if positions is not None and getattr(config, "num_mel_bins", None) is not None:
        # Mel bins as channels of a strided Conv1d front end, then one position per output frame.
        frames = _template_int(positions, "max_source_positions", 1, POSITIONS_MAX, source) * _conv_stride(model)
        return InputTemplate(name=name, dims=(1, features, frames), dtype="float32")
    return InputTemplate(name=name, dims=(1, DEFAULT_FRAMES, features), dtype="float32")


def _feature_count(config: Any, source: str) -> int:
    for owner in (config, getattr(config, "encoder_config", None)):
        for field in _FEATURE_FIELDS:
            value = getattr(owner, field, None)
            if value is not None:
                count = _template_int(value, field, 1, SIZE_LIMITS["num_channels"][1], source)
                channels = getattr(owner, "input_channels", 1) if field == "input_feat_per_channel" else 1
                return count * _template_int(channels, "input_channels", 1, 64, source)
    raise InputError(source, "names no audio feature size (num_mel_bins): pass --input-shape input_features=…")


def _conv_stride(model: Any) -> int:
    """Total stride of the Conv1d layers directly in the encoder (Whisper: 1 x 2), 2 if none."""
    import torch

    encoder = model.get_encoder() if model is not None and callable(getattr(model, "get_encoder", None)) else None
    convs = [m for m in encoder.children() if isinstance(m, torch.nn.Conv1d)] if encoder is not None else []
    stride = 1
    for conv in convs:
        stride *= int(conv.stride[0])
    return stride if convs else 2


def _template_int(value: Any, field: str, low: int, high: int, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(source, f"'{field}' = {short(value)} is not usable as an input size ({low} … {high:,})")
    return value


# --- keeping transformers offline and away from stdin ---------------------------------------


def _import_transformers(source: str) -> Any:
    try:
        import transformers
    except ImportError:
        raise InputError(
            source, "Hugging Face configs need the optional extra: pip install 'tradeoff-studio[hf]'"
        ) from None
    return transformers


def _config_dict(config: Any, source: str) -> dict[str, Any]:
    try:
        out = config.to_dict()
    except Exception as exc:
        raise InputError(source, f"transformers cannot read this config: {first_line(exc)}") from None
    if not isinstance(out, dict):
        raise InputError(source, "transformers cannot read this config")
    check_fields(out, source)  # the values transformers filled in (defaults, sub-configs) too
    return out


def _no_input(prompt: object = "") -> str:
    raise RuntimeError("refused to read stdin: pass --trust to run a model's own code")


_seal_lock = threading.Lock()
_seal_depth = 0
_saved: tuple[Any, Any] = (None, None)


@contextmanager
def _sealed() -> Iterator[None]:
    """While transformers runs: the Hub is offline (no config, code or kernel is downloaded) and
    `input()` raises, so a "run custom code? [y/N]" prompt can never block or be answered."""
    global _seal_depth, _saved
    hub: Any = None
    try:
        from huggingface_hub import constants

        hub = constants
    except ImportError:  # pragma: no cover - transformers depends on it
        pass
    with _seal_lock:
        if _seal_depth == 0:
            _saved = (builtins.input, getattr(hub, "HF_HUB_OFFLINE", None))
            builtins.input = _no_input
            if hub is not None:
                hub.HF_HUB_OFFLINE = True
        _seal_depth += 1
    try:
        yield
    finally:
        with _seal_lock:
            _seal_depth -= 1
            if _seal_depth == 0:
                builtins.input = _saved[0]
                if hub is not None:
                    hub.HF_HUB_OFFLINE = _saved[1]
