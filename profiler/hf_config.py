"""Hugging Face configs: build a transformers model with random weights from a config.json.

A config.json is untrusted input, so it is checked before transformers sees it:

* it is a JSON object of at most `MAX_CONFIG_BYTES`, nested at most `MAX_DEPTH` deep;
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

While transformers runs, the Hub is switched to offline mode and `input()` raises, so nothing is
downloaded and transformers' interactive "run custom code? [y/N]" prompt can never read stdin.
"""

from __future__ import annotations

import builtins
import json
import math
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, first_line
from .inputs import InputTemplate
from .result import ModelInfo
from .vocab import ModelFormat

if TYPE_CHECKING:
    from .loaded_model import LoadedModel

#: Build HF models on the meta device when fp32 weights would take more than this share of
#: the memory available now: counting works there, and timing would only thrash.
META_MEMORY_SHARE = 0.4

#: Bounds on what a config may describe. Real configs stay far below them (Llama 3.1 405B: 126
#: layers, 4e11 parameters; DeepSeek-V3 / Kimi K2: 61 layers of 256 / 384 experts, up to 1e12
#: parameters, about 70,000 modules); building 1,024 tiny layers on the meta device takes 1 to
#: 3 seconds on one core, and the build time grows with the number of modules.
MAX_CONFIG_BYTES = 16 << 20
MAX_DEPTH = 32
MAX_LAYERS = 1024
MAX_PARAMS = 2e12
MAX_MODULES = 100_000
MAX_PATCHES = 1 << 20
MAX_LIST = 1024

_DIM = 1 << 20  # hidden / intermediate sizes
_HEADS = 1 << 16
_POSITIONS = 1 << 24
_IMAGE = 8192

#: field -> (minimum, maximum). A field may be null (transformers' default applies), a whole
#: number (64.0 counts as 64), or a list or object of whole numbers (image_size [h, w], Swin's
#: depths, LXMERT's per-encoder num_hidden_layers). Zero is allowed where real configs use it to
#: mean "none" (projection_dim, head_dim, layer and expert counts).
_LAYER_KEYS = ("num_hidden_layers", "n_layer", "n_layers", "num_layers", "encoder_layers", "decoder_layers",
               "num_encoder_layers", "num_decoder_layers")  # fmt: skip
_HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model", "embed_dim", "hidden_dim", "dim", "embedding_size")
_FF_KEYS = ("intermediate_size", "n_inner", "d_ff", "ffn_dim", "ffn_hidden_size", "encoder_ffn_dim",
            "decoder_ffn_dim")  # fmt: skip
_EXPERT_FF_KEYS = ("moe_intermediate_size", "expert_ffn_hidden_size", "expert_intermediate_size")
_EXPERT_KEYS = ("num_experts", "num_local_experts", "n_routed_experts")
_POSITION_KEYS = ("max_position_embeddings", "n_positions", "n_ctx")
SIZE_LIMITS: dict[str, tuple[int, int]] = {
    **dict.fromkeys((*_LAYER_KEYS, "depths", "num_blocks"), (0, MAX_LAYERS)),
    **dict.fromkeys((*_HIDDEN_KEYS, "hidden_sizes", *_FF_KEYS, *_EXPERT_FF_KEYS), (1, _DIM)),
    **dict.fromkeys(
        ("projection_dim", "d_kv", "head_dim", "kv_lora_rank", "q_lora_rank", "shared_expert_intermediate_size"),
        (0, _DIM),
    ),  # fmt: skip
    **dict.fromkeys(
        (
            "num_attention_heads",
            "n_head",
            "num_heads",
            "num_key_value_heads",
            "encoder_attention_heads",
            "decoder_attention_heads",
        ),
        (1, _HEADS),
    ),  # fmt: skip
    **dict.fromkeys((*_EXPERT_KEYS, "n_shared_experts", "num_experts_per_tok"), (0, 1 << 14)),
    "vocab_size": (1, 1 << 24),
    **dict.fromkeys((*_POSITION_KEYS, "max_seq_len", "seq_length"), (1, _POSITIONS)),
    "image_size": (1, _IMAGE),
    "patch_size": (1, _IMAGE),
    "num_channels": (1, 4096),
}

_CLASS_NAME = re.compile(r"[A-Z][A-Za-z0-9_]{0,199}")
_CODE_REF = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,99})\.([A-Za-z_][A-Za-z0-9_]{0,199})")
_IMPLEMENTATION = re.compile(r"[A-Za-z0-9_]{1,64}")  # "eager", "sdpa"… never a Hub kernel "org/repo"
_DTYPE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


# --- the entry point ------------------------------------------------------------------------


def load_hf_config(path: Path, source: str, *, trust: bool = False) -> LoadedModel:
    raw = _read_json(path, source)
    custom = _custom_code(raw, path, source)
    _check_fields(raw, source)
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
            f"model_type {_short(model_type)} is unknown to the installed transformers {transformers.__version__}",
        )
    archs = raw.get("architectures") or []
    arch: str | None = archs[0] if archs else None
    with _sealed():
        if custom:
            config, build = _custom_builder(transformers, path, source, raw["auto_map"], arch)
        else:
            config, build = _builtin_builder(transformers, raw, source, arch)
        _check_estimate(_config_dict(config, source), source)
        return _build(transformers, config, build, source, arch or str(model_type))


# --- reading and checking the JSON ----------------------------------------------------------


def _read_json(path: Path, source: str) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise InputError(source, f"is {size:,} bytes: too large for a config.json (limit {MAX_CONFIG_BYTES:,})")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(source, "is not UTF-8 text, so not a config.json") from None
    except OSError as exc:
        raise InputError(source, f"cannot be read: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, 100,000 nested brackets
        raise InputError(source, f"is not usable JSON: {first_line(exc, 120)}") from None
    if not isinstance(raw, dict) or "model_type" not in raw:
        raise InputError(source, "is not a Hugging Face config: it has no 'model_type'")
    if not isinstance(raw["model_type"], str) or not raw["model_type"].strip():
        raise InputError(source, f"'model_type' must be a non-empty string, not {_short(raw['model_type'])}")
    archs = raw.get("architectures")
    if archs is not None:
        if not isinstance(archs, list) or len(archs) > MAX_LIST or not all(isinstance(a, str) for a in archs):
            raise InputError(source, f"'architectures' must be a list of class names, not {_short(archs)}")
        if archs and not _CLASS_NAME.fullmatch(archs[0]):
            raise InputError(source, f"architecture {_short(archs[0])} is not a model class name")
    return raw


def _custom_code(raw: dict[str, Any], path: Path, source: str) -> dict[str, str]:
    """The `auto_map` entries that make transformers import the folder's code: auto class name ->
    module name. Entries for tokenizers and processors are dropped from `raw` (never used here)."""
    auto_map = raw.pop("auto_map", None)
    if auto_map is None:
        return {}
    if not isinstance(auto_map, dict):
        raise InputError(source, f"'auto_map' must be an object, not {_short(auto_map)}")
    found: dict[str, str] = {}
    for key, ref in auto_map.items():
        if not (key == "AutoConfig" or key.startswith("AutoModel") or key == "AutoBackbone"):
            continue
        m = _CODE_REF.fullmatch(ref) if isinstance(ref, str) else None
        if m is None:
            raise InputError(
                source,
                f"auto_map[{_short(key)}] = {_short(ref)} is not a module.Class reference "
                "in this folder (code from another repository is never fetched)",
            )
        module = m.group(1)
        file = path.parent / f"{module}.py"
        if not file.is_file():
            raise InputError(source, f"auto_map[{_short(key)}] names {module}.py, which is not in the folder")
        found[key] = module
    if found:
        raw["auto_map"] = auto_map
    return found


def _check_fields(raw: Any, source: str, where: str = "", depth: int = 0) -> None:
    """Size fields are bounded whole numbers, implementations are built-in names, everywhere."""
    if depth > MAX_DEPTH:
        raise InputError(source, f"is nested more than {MAX_DEPTH} levels deep")
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict | list):
                _check_fields(item, source, where, depth + 1)
        return
    if not isinstance(raw, dict):
        return
    for key, value in raw.items():
        name = f"{where}{key}"
        if not isinstance(key, str):  # to_dict() keeps id2label's int keys
            if isinstance(value, dict | list):
                _check_fields(value, source, f"{name}.", depth + 1)
            continue
        if key in SIZE_LIMITS and value is not None:
            low, high = SIZE_LIMITS[key]
            for v in _members(value):
                if isinstance(v, float) and v.is_integer():
                    v = int(v)
                if isinstance(v, bool) or not isinstance(v, int):
                    raise InputError(source, f"'{_clip(name)}' must be a whole number, not {_short(value)}")
                if not low <= v <= high:
                    raise InputError(source, f"'{_clip(name)}' is {v:,}: outside the supported range {low} … {high:,}")
        elif key == "model_type" and not isinstance(value, str):
            raise InputError(source, f"'{_clip(name)}' must be a string, not {_short(value)}")
        elif key.lstrip("_").endswith("_implementation") or key.lstrip("_").endswith("_implementation_internal"):
            choices = value.values() if isinstance(value, dict) else [value]
            for v in choices:
                if v is not None and not (isinstance(v, str) and _IMPLEMENTATION.fullmatch(v)):
                    raise InputError(
                        source,
                        f"'{_clip(name)}' = {_short(value)} is not a built-in implementation "
                        "(kernels are never fetched from the Hub)",
                    )
        elif key in ("torch_dtype", "dtype") and value is not None and not _is_float_dtype(value):
            raise InputError(source, f"'{_clip(name)}' = {_short(value)} is not a floating-point dtype")
        elif key in ("use_pretrained_backbone", "use_timm_backbone") and value not in (None, True, False):
            raise InputError(source, f"'{_clip(name)}' must be true or false, not {_short(value)}")
        if isinstance(value, dict | list):
            _check_fields(value, source, f"{name}.", depth + 1)


# --- the size estimate ----------------------------------------------------------------------


def estimate_size(config: Mapping[str, Any]) -> tuple[float, int, int]:
    """(parameters, modules, layers of the deepest stack or stage list) a config describes, summed over its
    sub-configs: an upper-bound-minded estimate, cheap enough to run before anything is built.

    Per layer: attention 4·h² and a gated MLP 3·h·ff (times the experts, with their own size);
    plus input and output embeddings 2·vocab·h, absolute positions positions·h and image
    patches (image/patch)²·h. Modules: about 12 per layer plus 3 per expert.
    """
    params = 0.0
    modules = 8
    deepest = 0
    for level in _levels(config, 0):
        h = _first_int(level, _HIDDEN_KEYS) or max(_ints(level.get("hidden_sizes")), default=0)
        layers = sum(_first_int(level, (k,)) for k in _LAYER_KEYS) + sum(_ints(level.get("depths")))
        ff = _first_int(level, _FF_KEYS) or 4 * h
        experts = 1 if level.get("is_moe") is False else max(1, _first_int(level, _EXPERT_KEYS))
        expert_ff = _first_int(level, _EXPERT_FF_KEYS) or ff
        mlp = 3.0 * h * ff if experts == 1 else 3.0 * h * (ff + experts * expert_ff)
        params += layers * (4.0 * h * h + mlp)
        params += 2.0 * _first_int(level, ("vocab_size",)) * h + _first_int(level, _POSITION_KEYS) * h
        params += _patches(level) * h
        modules += layers * (12 + (3 * experts if experts > 1 else 0))
        deepest = max(deepest, _first_int(level, _LAYER_KEYS), sum(_ints(level.get("depths"))))
    return params, modules, deepest


def _check_estimate(config: Mapping[str, Any], source: str) -> None:
    params, modules, layers = estimate_size(config)
    patches = max((_patches(level) for level in _levels(config, 0)), default=0)
    if layers > MAX_LAYERS:
        raise InputError(source, f"describes {layers:,} layers in one stack: more than the {MAX_LAYERS:,} supported")
    if patches > MAX_PATCHES:
        raise InputError(
            source, f"image_size / patch_size gives {patches:,} patches: more than the {MAX_PATCHES:,} supported"
        )
    if params > MAX_PARAMS:
        raise InputError(source, f"describes about {params:.2g} parameters: more than the {MAX_PARAMS:.0e} supported")
    if modules > MAX_MODULES:
        raise InputError(
            source,
            f"describes about {modules:,} modules: more than the {MAX_MODULES:,} that can be built in reasonable time",
        )


def _levels(config: Any, depth: int) -> Iterator[Mapping[str, Any]]:
    """The config and every nested object holding a size field (text_config, vision_config…)."""
    if depth > MAX_DEPTH or not isinstance(config, Mapping):
        return
    if any(k in SIZE_LIMITS for k in config):
        yield config
    for value in config.values():
        if isinstance(value, Mapping):
            yield from _levels(value, depth + 1)


def _is_float_dtype(value: Any) -> bool:
    """ "auto" or the name of a torch floating-point dtype ("bfloat16", "float8_e4m3fn"…)."""
    if not isinstance(value, str) or not _DTYPE_NAME.fullmatch(value):
        return False
    if value == "auto":
        return True
    import torch

    dtype = getattr(torch, value, None)
    return isinstance(dtype, torch.dtype) and dtype.is_floating_point


def _members(value: Any) -> list[Any]:
    if isinstance(value, dict) and len(value) <= MAX_LIST:
        return list(value.values())
    if isinstance(value, list) and len(value) <= MAX_LIST:
        return value
    return [value]


def _ints(value: Any) -> list[int]:
    out: list[int] = []
    for v in _members(value):
        if isinstance(v, float) and v.is_integer() and v < 2**63:
            v = int(v)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            out.append(v)
    return out


def _first_int(level: Mapping[str, Any], keys: tuple[str, ...]) -> int:
    for key in keys:
        found = _ints(level.get(key))
        if found:
            return max(found)
    return 0


def _patches(level: Mapping[str, Any]) -> int:
    sizes = _ints(level.get("image_size"))
    if not sizes:
        return 0
    patch = _ints(level.get("patch_size")) or [1]
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(patch) == 1:
        patch = patch * 2
    return math.ceil(sizes[0] / patch[0]) * math.ceil(sizes[-1] / patch[-1])


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
                f"model_type {_short(model_type)}: add the class to 'architectures'",
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
    auto_cls = getattr(transformers, key, None) if _CLASS_NAME.fullmatch(key) else None
    if not (isinstance(auto_cls, type) and issubclass(auto_cls, _BaseAutoModelClass)):
        raise InputError(source, f"auto_map key {_short(key)} is not an auto class of transformers")
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
    model.eval()
    templates = hf_templates(config, source)
    from .loaded_model import LoadedModel

    return LoadedModel(
        info=ModelInfo(name=name, source=source, format=ModelFormat.HF_CONFIG),
        templates=templates,
        module=model,
        keyword_inputs=True,
        on_meta=on_meta,
        warnings=warnings,
    )


def hf_templates(config: Any, source: str = "config.json") -> tuple[InputTemplate, ...]:
    """Inputs an HF model is called with: pixel_values for vision configs, token ids otherwise.
    Sizes that are not usable (image_size 200000, a vocabulary of -1…) are a one-line InputError."""
    main_input = getattr(config, "main_input_name", None)
    if not (isinstance(main_input, str) and main_input.isidentifier()):
        main_input = None
    if hasattr(config, "num_channels") and (hasattr(config, "image_size") or hasattr(config, "hidden_sizes")):
        size = getattr(config, "image_size", 224)
        size = size[0] if isinstance(size, list | tuple) and size else size
        channels = _template_int(config.num_channels, "num_channels", 1, SIZE_LIMITS["num_channels"][1], source)
        side = _template_int(size, "image_size", 1, _IMAGE, source)
        return (InputTemplate(name="pixel_values", dims=(1, channels, side, side), dtype="float32"),)
    vocab = getattr(config, "vocab_size", None)
    vocab = None if vocab is None else _template_int(vocab, "vocab_size", 1, SIZE_LIMITS["vocab_size"][1], source)
    max_pos = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None) or 512
    seq = min(128, _template_int(max_pos, "max_position_embeddings", 1, _POSITIONS, source))
    templates = [
        InputTemplate(name=main_input or "input_ids", dims=(1, seq), dtype="int64", seq_dim=1, vocab_size=vocab)
    ]
    if getattr(config, "is_encoder_decoder", False):
        templates.append(
            InputTemplate(name="decoder_input_ids", dims=(1, seq), dtype="int64", seq_dim=1, vocab_size=vocab)
        )
    return tuple(templates)


def _template_int(value: Any, field: str, low: int, high: int, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(source, f"'{field}' = {_short(value)} is not usable as an input size ({low} … {high:,})")
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
    _check_fields(out, source)  # the values transformers filled in (defaults, sub-configs) too
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


def _short(value: Any) -> str:
    return _clip(repr(value))


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
