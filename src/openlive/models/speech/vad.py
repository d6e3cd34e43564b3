"""Silero VAD (the ONNX model of the ``silero-vad`` wheel, from the weights cache: see
:data:`openlive.weights.SILERO_VAD`) on onnxruntime, no torch.

Each call takes 16 kHz float32 audio of any length and returns one speech probability per
512-sample (32 ms) frame, keeping the leftover samples, the 64-sample context the model wants
prepended and its recurrent state between calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...audio.pcm import Floats
from ...weights import SILERO_VAD, ensure_weights

__all__ = ["SileroVad", "VadModel"]

FRAME = 512
CONTEXT = 64


class VadModel:
    """The shared ONNX session (thread-safe for ``run``); one per server."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        path = ensure_weights(SILERO_VAD)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def stream(self) -> SileroVad:
        return SileroVad(self)


class SileroVad:
    """Per-session streaming state."""

    def __init__(self, model: VadModel) -> None:
        self.model = model
        self.state: Any = np.zeros((2, 1, 128), dtype=np.float32)
        self.context: Floats = np.zeros(CONTEXT, dtype=np.float32)
        self.pending: Floats = np.zeros(0, dtype=np.float32)
        self._sr = np.array(16000, dtype=np.int64)

    def probabilities(self, samples: Floats) -> list[float]:
        data = np.concatenate([self.pending, samples]) if self.pending.size else samples
        n = data.size // FRAME
        self.pending = data[n * FRAME :].copy()
        out: list[float] = []
        for i in range(n):
            frame = data[i * FRAME : (i + 1) * FRAME]
            x = np.concatenate([self.context, frame])[None, :]
            prob, self.state = self.model.session.run(
                None, {"input": x, "state": self.state, "sr": self._sr}
            )
            self.context = frame[-CONTEXT:]
            out.append(float(prob[0][0]))
        return out
