"""Hostile Hugging Face configs: custom code, fake architectures, absurd sizes.

A config.json is checked before transformers sees it (profiler/hf_config.py): a folder that
carries its own Python code is refused without trust (and transformers' "run custom code? [y/N]"
prompt can never read stdin), `architectures` must name a transformers model class, and sizes
are bounded so that nothing builds for minutes. Everything runs offline on tiny models.
"""

from __future__ import annotations

import builtins
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from profiler import hf_checks, hf_config  # noqa: E402
from profiler.analyze import ProfileRequest, profile_model  # noqa: E402
from profiler.errors import InputError  # noqa: E402
from profiler.loading import load_model  # noqa: E402
from tradeoff.main import main  # noqa: E402

TINY_LLAMA: dict[str, Any] = {
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
    "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 128,
    "max_position_embeddings": 64,
}  # fmt: skip
TINY_VIT: dict[str, Any] = {
    "model_type": "vit", "architectures": ["ViTModel"], "image_size": 32, "patch_size": 8, "num_channels": 3,
    "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
}  # fmt: skip


def write_folder(folder: Path, config: dict[str, Any], files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def marker_code(marker: Path) -> str:
    return f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"


class _NoStdin:
    """sys.stdin for these tests: any read is recorded and fails."""

    def __init__(self, reads: list[str]) -> None:
        self.reads = reads

    def _read(self, *args: object) -> str:
        self.reads.append("sys.stdin")
        raise OSError("stdin must never be read")

    read = readline = readlines = _read

    def fileno(self) -> int:
        raise OSError("stdin must never be read")

    def isatty(self) -> bool:
        return False


@pytest.fixture
def stdin_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records any attempt to read stdin, through input() or sys.stdin."""
    reads: list[str] = []

    def no_input(prompt: object = "") -> str:
        reads.append(f"input({prompt!r})")
        raise EOFError("stdin must never be read")

    monkeypatch.setattr(builtins, "input", no_input)
    monkeypatch.setattr(sys, "stdin", _NoStdin(reads))
    return reads


def refused(source: Path | str, **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as info:
        load_model(str(source), **kwargs)
    err = info.value
    assert "\n" not in str(err) and len(str(err)) < 400
    return err


# --- custom code ----------------------------------------------------------------------------


EVIL_MODELING = """
from transformers import LlamaForCausalLM


class EvilModel(LlamaForCausalLM):
    pass
"""

EVIL_CONFIGURATION = """
from transformers import PretrainedConfig


class EvilConfig(PretrainedConfig):
    model_type = "evil"
"""


@pytest.mark.parametrize("kind", ["known model_type", "own config class"])
def test_custom_code_needs_trust_and_never_runs(tmp_path: Path, stdin_reads: list[str], kind: str) -> None:
    marker = tmp_path / "marker"
    if kind == "known model_type":
        config = {**TINY_LLAMA, "architectures": ["EvilModel"], "auto_map": {"AutoModel": "modeling_evil.EvilModel"}}
    else:  # the classic custom repo: transformers would prompt "run custom code? [y/N]"
        config = {
            "model_type": "evil", "architectures": ["EvilModel"], "hidden_size": 64,
            "auto_map": {"AutoConfig": "configuration_evil.EvilConfig", "AutoModel": "modeling_evil.EvilModel"},
        }  # fmt: skip
    folder = write_folder(
        tmp_path / "evil",
        config,
        {"modeling_evil.py": marker_code(marker) + EVIL_MODELING,
         "configuration_evil.py": marker_code(marker) + EVIL_CONFIGURATION},
    )  # fmt: skip
    for source in (folder, folder / "config.json"):
        err = refused(source)
        assert err.details == {"needs_trust": True}
        assert "its own Python code" in err.problem and "--trust" in err.problem and "modeling_evil.py" in err.problem
    assert not marker.exists()
    assert stdin_reads == []


@pytest.mark.parametrize(
    ("auto_map", "expected"),
    [
        ({"AutoModel": "attacker/repo--modeling_evil.EvilModel"}, "another repository"),
        ({"AutoModel": "../modeling_evil.EvilModel"}, "module.Class"),
        ({"AutoModel": ["modeling_evil.EvilModel"]}, "module.Class"),
        ({"AutoModel": "modeling_missing.EvilModel"}, "modeling_missing.py, which is not in the folder"),
        (["modeling_evil.EvilModel"], "'auto_map' must be an object"),
    ],
)
def test_auto_map_must_point_into_the_folder(tmp_path: Path, auto_map: Any, expected: str) -> None:
    marker = tmp_path / "marker"
    folder = write_folder(
        tmp_path / "m", {**TINY_LLAMA, "auto_map": auto_map}, {"modeling_evil.py": marker_code(marker)}
    )
    for trust in (False, True):
        err = refused(folder, trust=trust)
        assert expected in err.problem and "needs_trust" not in err.details
    assert not marker.exists()


def test_custom_code_with_trust_builds_from_the_folder_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stdin_reads: list[str]
) -> None:
    import transformers.dynamic_module_utils as dmu

    monkeypatch.setattr(dmu, "HF_MODULES_CACHE", str(tmp_path / "modules"))  # not the user's ~/.cache
    monkeypatch.setattr(sys, "path", list(sys.path))
    marker = tmp_path / "marker"
    config = {
        **TINY_LLAMA,
        "architectures": ["EvilModel"],
        "auto_map": {"AutoModelForCausalLM": "modeling_evil.EvilModel"},
        "_name_or_path": "attacker/elsewhere",  # never where the code is looked up
    }
    folder = write_folder(
        tmp_path / "trusted_custom", config, {"modeling_evil.py": marker_code(marker) + EVIL_MODELING}
    )
    loaded = load_model(str(folder), trust=True)
    assert marker.exists()  # the user trusted it: the folder's own code built the model
    assert type(loaded.module).__name__ == "EvilModel" and loaded.info.name == "EvilModel"
    p = profile_model(loaded, ProfileRequest(latency=False, seq_len=8))
    assert p.totals.params == sum(t.numel() for t in loaded.module.parameters())
    assert stdin_reads == []


def test_the_prompt_of_transformers_cannot_read_stdin(stdin_reads: list[str]) -> None:
    """Belt and braces: even a call that would prompt fails at once inside the guard."""
    from transformers.dynamic_module_utils import resolve_trust_remote_code

    saved = builtins.input
    with hf_config._sealed(), pytest.raises(ValueError, match="trust_remote_code"):
        resolve_trust_remote_code(None, "some/repo", has_local_code=False, has_remote_code=True)  # type: ignore[no-untyped-call]
    assert builtins.input is saved
    assert stdin_reads == []


def test_tokenizer_only_auto_map_is_not_custom_model_code(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    config = {
        **TINY_LLAMA,
        "torch_dtype": "bfloat16",
        "auto_map": {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None]},
    }
    folder = write_folder(tmp_path / "tok", config, {"tokenization_evil.py": marker_code(marker)})
    loaded = load_model(str(folder))
    assert type(loaded.module).__name__ == "LlamaForCausalLM"
    assert not marker.exists()


# --- architectures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("architectures", "expected"),
    [
        ([123], "list of class names"),
        ({"a": 1}, "list of class names"),
        ("TextStreamer", "list of class names"),
        (["TextStreamer"], "not a transformers model class"),
        (["os"], "not a model class name"),
        (["__import__"], "not a model class name"),
        (["PreTrainedModel"], "does not take"),
        (["AutoModel"], "not a transformers model class"),
        (["BertModel"], "is for model_type 'bert'"),
        (["NoSuchModelAnywhere"], "not in the installed transformers"),
        (["Llama ForCausalLM"], "not a model class name"),
    ],
)
def test_architectures_must_name_a_model_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, architectures: Any, expected: str
) -> None:
    import transformers

    calls: list[str] = []
    monkeypatch.setattr(transformers.TextStreamer, "__init__", lambda *a, **k: calls.append("TextStreamer"))
    monkeypatch.setattr(transformers.AutoModel, "from_config", lambda *a, **k: calls.append("AutoModel"))
    folder = write_folder(tmp_path / "arch", {**TINY_LLAMA, "architectures": architectures})
    err = refused(folder)
    assert expected in err.problem, err.problem
    assert calls == []


# --- sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({**TINY_LLAMA, "num_hidden_layers": 20_000}, "'num_hidden_layers' is 20,000"),
        ({**TINY_VIT, "image_size": 200_000}, "'image_size' is 200,000"),
        ({**TINY_LLAMA, "hidden_size": "64"}, "whole number"),
        ({**TINY_LLAMA, "hidden_size": True}, "whole number"),
        ({**TINY_LLAMA, "hidden_size": -1}, "outside the supported range"),
        ({**TINY_LLAMA, "vocab_size": 1e30}, "outside the supported range"),
        ({**TINY_LLAMA, "num_attention_heads": [4] * 5000}, "whole number"),
        (
            {**TINY_LLAMA, "text_config": {"model_type": "llama", "num_hidden_layers": 10**9}},
            "text_config.num_hidden_layers",
        ),
        ({**TINY_LLAMA, "model_type": 7}, "'model_type' must be a non-empty string"),
        ({**TINY_LLAMA, "attn_implementation": "kernels-community/flash-attn"}, "kernels are never fetched"),
        ({**TINY_LLAMA, "torch_dtype": "load"}, "not a floating-point dtype"),
        ({**TINY_LLAMA, "torch_dtype": {"": "float32"}}, "not a floating-point dtype"),
        ({**TINY_LLAMA, "dtype": "int64"}, "not a floating-point dtype"),
    ],
)
def test_bad_sizes_are_refused_before_transformers_builds(
    tmp_path: Path, config: dict[str, Any], expected: str
) -> None:
    folder = write_folder(tmp_path / "sizes", config)
    start = time.perf_counter()
    err = refused(folder)
    assert time.perf_counter() - start < 5.0
    assert expected in err.problem, err.problem


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # Each field within its bound, the whole beyond: 1,024 layers of width 2^20.
        ({**TINY_LLAMA, "num_hidden_layers": 1024, "hidden_size": 1 << 20, "intermediate_size": 1 << 20}, "parameters"),
        # 64 layers of 16,384 experts: millions of modules.
        (
            {
                "model_type": "mixtral",
                "architectures": ["MixtralForCausalLM"],
                "hidden_size": 8,
                "intermediate_size": 8,
                "num_hidden_layers": 64,
                "num_attention_heads": 2,
                "num_key_value_heads": 1,
                "num_local_experts": 16384,
                "vocab_size": 32,
            },
            "modules",
        ),  # fmt: skip
        ({**TINY_VIT, "image_size": 8192, "patch_size": 1}, "patches"),
        ({**TINY_LLAMA, "model_type": "no_such_type"}, "model_type 'no_such_type' is unknown"),
    ],
)
def test_absurd_models_are_refused_by_the_estimate(tmp_path: Path, config: dict[str, Any], expected: str) -> None:
    folder = write_folder(tmp_path / "big", config)
    start = time.perf_counter()
    err = refused(folder)
    assert time.perf_counter() - start < 20.0  # the import of transformers, never a build
    assert expected in err.problem, err.problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"model_type": "llama", "vocab_size": ' + "9" * 5000 + "}", "not usable JSON"),
        ("[" * 100_000 + "]" * 100_000, "not usable JSON"),
        ('{"model_type": "llama", "x": ' + "[" * 40 + "]" * 40 + "}", "nested more than"),
    ],
)
def test_malformed_json_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text, encoding="utf-8")
    assert expected in refused(path).problem


def test_estimate_is_near_a_published_count() -> None:
    llama_7b = {"hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32, "vocab_size": 32000,
                "num_attention_heads": 32, "max_position_embeddings": 4096}  # fmt: skip
    params, modules, layers = hf_checks.estimate_size(llama_7b)
    assert 6.7e9 <= params <= 1.2 * 6.74e9 and layers == 32 and modules < 1000


def test_templates_refuse_unusable_sizes() -> None:
    from types import SimpleNamespace

    with pytest.raises(InputError, match="image_size"):
        hf_config.hf_templates(SimpleNamespace(num_channels=3, image_size=200_000), "cfg")
    with pytest.raises(InputError, match="vocab_size"):
        hf_config.hf_templates(SimpleNamespace(vocab_size=-1), "cfg")
    (t,) = hf_config.hf_templates(SimpleNamespace(num_channels=3, image_size=[32, 32]), "cfg")
    assert t.dims == (1, 3, 32, 32)


# --- ordinary configs still load ------------------------------------------------------------


def test_a_tiny_llama_still_loads(tmp_path: Path, stdin_reads: list[str]) -> None:
    loaded = load_model(str(write_folder(tmp_path / "llama", TINY_LLAMA)))
    assert loaded.info.name == "LlamaForCausalLM" and not loaded.on_meta
    p = profile_model(loaded, ProfileRequest(latency=False, seq_len=8))
    assert p.totals.params == sum(t.numel() for t in loaded.module.parameters()) > 0
    assert stdin_reads == []


def test_the_cli_prints_one_error_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker"
    hostile = {
        "custom": ({**TINY_LLAMA, "auto_map": {"AutoModel": "modeling_evil.EvilModel"}},
                   {"modeling_evil.py": marker_code(marker)}),
        "arch": ({**TINY_LLAMA, "architectures": [123]}, None),
        "layers": ({**TINY_LLAMA, "num_hidden_layers": 20_000}, None),
        "image": ({**TINY_VIT, "image_size": 200_000}, None),
    }  # fmt: skip
    for name, (config, files) in hostile.items():
        folder = write_folder(tmp_path / name, config, files)
        code = main(["profile", str(folder), "--no-latency"])
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (name, err)
    assert not marker.exists()
