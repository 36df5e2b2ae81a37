"""The input-size question speaks in the window's words and pre-fills what the model declares."""

from __future__ import annotations

from gui.widgets.dialogs import shape_question


def test_a_token_input_gets_a_token_shape_not_an_image() -> None:
    text, guess = shape_question(
        "input_ids",
        {"input": "input_ids", "dim": 1, "symbol": "sequence", "declared": [None, None], "dtype": "int64",
         "symbols": ["batch", "sequence"]},
    )  # fmt: skip
    assert guess == "1x128"
    assert "“input_ids”" in text and "dimension 1 (“sequence”)" in text
    assert "224" not in text and "--" not in text, "no image example, no command-line flag"


def test_declared_sizes_are_kept_and_open_ones_guessed() -> None:
    _, guess = shape_question(
        "pixel_values",
        {"input": "pixel_values", "dim": 2, "symbol": "height", "declared": [None, 3, None, None],
         "dtype": "float32", "symbols": ["batch", None, "height", "width"]},
    )  # fmt: skip
    assert guess == "1x3x224x224"


def test_an_unknown_open_size_is_marked_for_the_user_and_the_example_has_the_models_rank() -> None:
    text, guess = shape_question(
        "x", {"input": "x", "dim": 1, "symbol": "n", "declared": [1, None], "dtype": "float32", "symbols": [None, "n"]}
    )
    assert guess == "1x?"
    assert "1x64 (2 sizes, batch first)" in text


def test_a_model_that_declares_nothing() -> None:
    text, guess = shape_question(None, {"input": None, "dim": None, "symbol": None, "declared": []})
    assert guess == "" and "does not say what shape its input has" in text
