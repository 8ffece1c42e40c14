"""Syllables → the acoustic model's symbols → ids, against the model's own table."""

from __future__ import annotations

import json
import logging

import pytest

from tts_service.engines.baker_model import asset_dir
from tts_service.text.phonemes import ids, split_syllable, symbols
from tts_service.text.pinyin import tokens


@pytest.fixture(scope="module")
def mapper() -> dict:
    return json.loads((asset_dir() / "baker_mapper.json").read_text(encoding="utf-8"))


def seq(text: str, mapper: dict) -> str:
    return " ".join(symbols(tokens(text), mapper["pinyin_dict"]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好，世界。", "sil n i2 #0 h ao3 #3 sh iii4 #0 j ie4 sil"),
        ("资源", "sil z ii1 #0 ^ van2 sil"),
        ("一个人", "sil ^ i2 #0 g e4 #1 r en2 sil"),
        ("不是", "sil b u2 #0 sh iii4 sil"),
        ("看一看", "sil k an4 #0 ^ i5 #0 k an4 sil"),
        ("学习、工作", "sil x ve2 #0 x i2 #2 g ong1 #0 z uo4 sil"),
        ("我们的桌子", "sil ^ uo3 #0 m en5 #1 d e5 #1 zh uo1 #0 z ii5 sil"),
        ("AI", "sil ^ ei1 #0 ^ ai4 sil"),
    ],
)
def test_symbol_sequences(text: str, expected: str, mapper: dict) -> None:
    assert seq(text, mapper) == expected


def test_every_syllable_pypinyin_knows_maps_to_model_symbols(mapper: dict) -> None:
    known = set(mapper["symbol_to_id"])
    for base in mapper["pinyin_dict"]:
        for tone in "12345":
            initial, final = split_syllable(base + tone, mapper["pinyin_dict"])
            assert {initial, final} <= known, base + tone


def test_ids_end_with_eos_and_skip_unknown(mapper: dict, caplog: pytest.LogCaptureFixture) -> None:
    table = mapper["symbol_to_id"]
    with caplog.at_level(logging.WARNING):
        result = ids(["sil", "n", "bogus", "i2", "sil"], table)
    assert result == [table["sil"], table["n"], table["i2"], table["sil"], table["eos"]]
    assert "bogus" in caplog.text
