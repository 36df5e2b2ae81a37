"""Encoder-decoder Hugging Face configs (T5, BART, Marian, Pegasus, mBART, Whisper, Speech2Text…)
open with default decoder inputs and count to hand formulas written here (MACs).

Default inputs: the encoder's (token ids, or audio for a model whose forward takes no ids) and
`decoder_input_ids` of the same default length, min(128, the decoder's positions). Both are
ordinary named inputs: --seq-len sets every token input, --input-shape NAME=… one of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from profiler import hf_config
from profiler.analyze import ProfileRequest, profile_model
from profiler.loading import load_model, make_inputs
from profiler.result import InputSpec, Profile

pytest.importorskip("transformers")

D, FF, HEADS, VOCAB = 64, 128, 4, 1000
TOKENS = {"pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 1}

T5 = {
    "model_type": "t5",
    "architectures": ["T5ForConditionalGeneration"],
    "d_model": D,
    "d_ff": FF,
    "d_kv": D // HEADS,
    "num_layers": 2,
    "num_decoder_layers": 2,
    "num_heads": HEADS,
    "vocab_size": VOCAB,
    **TOKENS,
}


def bart_like(model_type: str, arch: str, **extra: Any) -> dict[str, Any]:
    return {
        "model_type": model_type,
        "architectures": [arch],
        "d_model": D,
        "encoder_layers": 2,
        "decoder_layers": 2,
        "encoder_attention_heads": HEADS,
        "decoder_attention_heads": HEADS,
        "encoder_ffn_dim": FF,
        "decoder_ffn_dim": FF,
        "max_position_embeddings": 128,
        "vocab_size": VOCAB,
        **TOKENS,
        **extra,
    }


WHISPER = {
    **bart_like("whisper", "WhisperForConditionalGeneration"),
    "num_mel_bins": 80,
    "max_source_positions": 50,
    "max_target_positions": 64,
}


def write(tmp_path: Path, name: str, config: dict[str, Any]) -> str:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    return str(folder / "config.json")


def profile(path: str, **request: Any) -> Profile:
    p = profile_model(load_model(path), ProfileRequest(**{"latency": False, **request}))
    p.check()
    return p


def transformer_macs(enc: int, dec: int, layers: int = 2, inner: int = D) -> int:
    """Encoder self-attention + FFN, decoder self-attention, cross-attention + FFN, LM head."""
    encoder = 4 * enc * D * inner + 2 * enc * enc * inner + 2 * enc * D * FF
    decoder = (
        4 * dec * D * inner
        + 2 * dec * dec * inner
        + 2 * dec * D * inner  # cross-attention q, o
        + 2 * enc * D * inner  # cross-attention k, v over the encoder's output
        + 2 * dec * enc * inner
        + 2 * dec * D * FF
    )
    return layers * (encoder + decoder) + dec * D * VOCAB


# --- text ---------------------------------------------------------------------------------------


def test_t5_opens_with_decoder_inputs_and_counts(tmp_path: Path) -> None:
    p = profile(write(tmp_path, "t5", T5), seq_len=16)
    assert p.inputs == (InputSpec("input_ids", (1, 16), "int64"), InputSpec("decoder_input_ids", (1, 16), "int64"))
    assert p.unsupported_ops == {}
    assert p.totals.macs == transformer_macs(16, 16)


def test_default_decoder_length_is_the_encoders(tmp_path: Path) -> None:
    p = profile(write(tmp_path, "bart", bart_like("bart", "BartForConditionalGeneration")))
    assert [s.shape for s in p.inputs] == [(1, 128), (1, 128)]  # min(128, max_position_embeddings)
    assert p.totals.macs == transformer_macs(128, 128)


def test_decoder_length_alone_by_input_shape(tmp_path: Path) -> None:
    path = write(tmp_path, "bart", bart_like("bart", "BartForConditionalGeneration"))
    p = profile(path, shapes=(("decoder_input_ids", (2, 8)),), batch=2)
    assert p.inputs == (InputSpec("input_ids", (2, 128), "int64"), InputSpec("decoder_input_ids", (2, 8), "int64"))
    assert p.totals.macs == 2 * transformer_macs(128, 8)


@pytest.mark.parametrize(
    ("model_type", "arch"),
    [
        ("marian", "MarianMTModel"),
        ("pegasus", "PegasusForConditionalGeneration"),
        ("mbart", "MBartForConditionalGeneration"),
    ],
)
def test_seq2seq_families_open_and_count(tmp_path: Path, model_type: str, arch: str) -> None:
    import transformers

    if model_type not in transformers.CONFIG_MAPPING:
        pytest.skip(f"no {model_type} in this transformers")
    p = profile(write(tmp_path, model_type, bart_like(model_type, arch)), seq_len=16)
    assert [s.name for s in p.inputs] == ["input_ids", "decoder_input_ids"]
    assert p.unsupported_ops == {}
    assert p.totals.macs == transformer_macs(16, 16)


def test_marian_decoder_ids_stay_in_the_decoder_vocabulary(tmp_path: Path) -> None:
    config = bart_like("marian", "MarianMTModel", decoder_vocab_size=50, share_encoder_decoder_embeddings=False)
    loaded = load_model(write(tmp_path, "marian", config))
    by_name = {t.name: t for t in loaded.templates}
    assert by_name["input_ids"].vocab_size == VOCAB and by_name["decoder_input_ids"].vocab_size == 50
    p = profile_model(loaded, ProfileRequest(latency=False, seq_len=8))
    _, kwargs = make_inputs(loaded, p.inputs)
    assert int(kwargs["decoder_input_ids"].max()) < 50


# --- audio --------------------------------------------------------------------------------------


def test_whisper_takes_mel_features_and_decoder_ids(tmp_path: Path) -> None:
    p = profile(write(tmp_path, "whisper", WHISPER))
    frames, positions, dec = 100, 50, 64  # 2 x max_source_positions frames; min(128, max_target_positions)
    assert p.inputs == (
        InputSpec("input_features", (1, 80, frames), "float32"),
        InputSpec("decoder_input_ids", (1, dec), "int64"),
    )
    assert p.unsupported_ops == {}
    convs = frames * D * 80 * 3 + positions * D * D * 3  # conv1 (stride 1), conv2 (stride 2), kernel 3
    assert p.totals.macs == convs + transformer_macs(positions, dec)
    # --seq-len is the decoder's: the mel frames are fixed by the encoder's positions.
    short = profile(write(tmp_path, "whisper2", WHISPER), seq_len=16)
    assert [s.shape for s in short.inputs] == [(1, 80, frames), (1, 16)]
    assert short.totals.macs == convs + transformer_macs(positions, 16)


def test_speech2text_takes_frames_by_features(tmp_path: Path) -> None:
    import transformers

    if "speech_to_text" not in transformers.CONFIG_MAPPING:
        pytest.skip("no Speech2Text in this transformers")
    config = {
        **bart_like("speech_to_text", "Speech2TextForConditionalGeneration"),
        "input_feat_per_channel": 40,
        "input_channels": 1,
        "conv_channels": 32,
        "max_source_positions": 400,
    }
    p = profile(write(tmp_path, "s2t", config), seq_len=16)
    assert p.inputs[0] == InputSpec("input_features", (1, hf_config.DEFAULT_FRAMES, 40), "float32")
    assert p.inputs[1] == InputSpec("decoder_input_ids", (1, 16), "int64")
    assert p.totals.macs > 0 and p.unsupported_ops == {}


def test_whisper_with_latency(tmp_path: Path) -> None:
    loaded = load_model(write(tmp_path, "whisper", WHISPER))
    p = profile_model(loaded, ProfileRequest(latency=True, layer_latency=False, budget_s=0.2, seq_len=8))
    p.check()
    assert p.totals.latency_ms is not None and p.totals.latency_ms.median > 0


# --- templates without a model (older callers) --------------------------------------------------


def test_templates_from_the_config_alone_still_work() -> None:
    config = SimpleNamespace(vocab_size=100, max_position_embeddings=32, is_encoder_decoder=True)
    names = [(t.name, t.dims) for t in hf_config.hf_templates(config, "cfg")]
    assert names == [("input_ids", (1, 32)), ("decoder_input_ids", (1, 32))]


def test_encoder_only_class_of_an_encoder_decoder_config_gets_no_decoder_inputs(tmp_path: Path) -> None:
    # T5EncoderModel keeps the config's is_encoder_decoder, but its forward takes no decoder ids.
    p = profile(write(tmp_path, "t5enc", {**T5, "architectures": ["T5EncoderModel"]}), seq_len=16)
    assert p.inputs == (InputSpec("input_ids", (1, 16), "int64"),)
    assert p.totals.macs == 2 * (4 * 16 * D * D + 2 * 16 * 16 * D + 2 * 16 * D * FF)


@pytest.mark.parametrize(("field", "value"), [("max_source_positions", 10**9), ("num_mel_bins", 0)])
def test_audio_sizes_out_of_bounds_are_refused_before_building(tmp_path: Path, field: str, value: int) -> None:
    from profiler.errors import InputError

    with pytest.raises(InputError, match=field):
        load_model(write(tmp_path, "whisper", {**WHISPER, field: value}))
