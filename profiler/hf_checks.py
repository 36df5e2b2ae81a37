"""Checks of an untrusted Hugging Face config.json before transformers sees it: the JSON
itself, the types and bounds of its size fields, custom code (`auto_map`), and a size estimate
of the model it describes (see profiler/hf_config.py for the rules as a whole)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import InputError, first_line

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
POSITIONS_MAX = 1 << 24
IMAGE_MAX = 8192

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
_POSITION_KEYS = ("max_position_embeddings", "n_positions", "n_ctx", "max_source_positions", "max_target_positions")
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
    **dict.fromkeys((*_POSITION_KEYS, "max_seq_len", "seq_length"), (1, POSITIONS_MAX)),
    "image_size": (1, IMAGE_MAX),
    "patch_size": (1, IMAGE_MAX),
    "num_channels": (1, 4096),
    "num_mel_bins": (1, 4096),  # audio inputs are sized from these (profiler/hf_config.py)
}

CLASS_NAME = re.compile(r"[A-Z][A-Za-z0-9_]{0,199}")
_CODE_REF = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,99})\.([A-Za-z_][A-Za-z0-9_]{0,199})")
_IMPLEMENTATION = re.compile(r"[A-Za-z0-9_]{1,64}")  # "eager", "sdpa"… never a Hub kernel "org/repo"
_DTYPE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


# --- reading and checking the JSON ----------------------------------------------------------


def read_json(path: Path, source: str) -> dict[str, Any]:
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
        raise InputError(source, f"'model_type' must be a non-empty string, not {short(raw['model_type'])}")
    archs = raw.get("architectures")
    if archs is not None:
        if not isinstance(archs, list) or len(archs) > MAX_LIST or not all(isinstance(a, str) for a in archs):
            raise InputError(source, f"'architectures' must be a list of class names, not {short(archs)}")
        if archs and not CLASS_NAME.fullmatch(archs[0]):
            raise InputError(source, f"architecture {short(archs[0])} is not a model class name")
    return raw


def custom_code(raw: dict[str, Any], path: Path, source: str) -> dict[str, str]:
    """The `auto_map` entries that make transformers import the folder's code: auto class name ->
    module name. Entries for tokenizers and processors are dropped from `raw` (never used here)."""
    auto_map = raw.pop("auto_map", None)
    if auto_map is None:
        return {}
    if not isinstance(auto_map, dict):
        raise InputError(source, f"'auto_map' must be an object, not {short(auto_map)}")
    found: dict[str, str] = {}
    for key, ref in auto_map.items():
        if not (key == "AutoConfig" or key.startswith("AutoModel") or key == "AutoBackbone"):
            continue
        m = _CODE_REF.fullmatch(ref) if isinstance(ref, str) else None
        if m is None:
            raise InputError(
                source,
                f"auto_map[{short(key)}] = {short(ref)} is not a module.Class reference "
                "in this folder (code from another repository is never fetched)",
            )
        module = m.group(1)
        file = path.parent / f"{module}.py"
        if not file.is_file():
            raise InputError(source, f"auto_map[{short(key)}] names {module}.py, which is not in the folder")
        found[key] = module
    if found:
        raw["auto_map"] = auto_map
    return found


def check_fields(raw: Any, source: str, where: str = "", depth: int = 0) -> None:
    """Size fields are bounded whole numbers, implementations are built-in names, everywhere."""
    if depth > MAX_DEPTH:
        raise InputError(source, f"is nested more than {MAX_DEPTH} levels deep")
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict | list):
                check_fields(item, source, where, depth + 1)
        return
    if not isinstance(raw, dict):
        return
    for key, value in raw.items():
        name = f"{where}{key}"
        if not isinstance(key, str):  # to_dict() keeps id2label's int keys
            if isinstance(value, dict | list):
                check_fields(value, source, f"{name}.", depth + 1)
            continue
        if key in SIZE_LIMITS and value is not None:
            low, high = SIZE_LIMITS[key]
            for v in _members(value):
                if isinstance(v, float) and v.is_integer():
                    v = int(v)
                if isinstance(v, bool) or not isinstance(v, int):
                    raise InputError(source, f"'{clip(name)}' must be a whole number, not {short(value)}")
                if not low <= v <= high:
                    raise InputError(source, f"'{clip(name)}' is {v:,}: outside the supported range {low} … {high:,}")
        elif key == "model_type" and not isinstance(value, str):
            raise InputError(source, f"'{clip(name)}' must be a string, not {short(value)}")
        elif key.lstrip("_").endswith("_implementation") or key.lstrip("_").endswith("_implementation_internal"):
            choices = value.values() if isinstance(value, dict) else [value]
            for v in choices:
                if v is not None and not (isinstance(v, str) and _IMPLEMENTATION.fullmatch(v)):
                    raise InputError(
                        source,
                        f"'{clip(name)}' = {short(value)} is not a built-in implementation "
                        "(kernels are never fetched from the Hub)",
                    )
        elif key in ("torch_dtype", "dtype") and value is not None and not _is_float_dtype(value):
            raise InputError(source, f"'{clip(name)}' = {short(value)} is not a floating-point dtype")
        elif key in ("use_pretrained_backbone", "use_timm_backbone") and value not in (None, True, False):
            raise InputError(source, f"'{clip(name)}' must be true or false, not {short(value)}")
        if isinstance(value, dict | list):
            check_fields(value, source, f"{name}.", depth + 1)


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


def check_estimate(config: Mapping[str, Any], source: str) -> None:
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


def short(value: Any) -> str:
    return clip(repr(value))


def clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
