"""A small convolution reverb: uniformly partitioned overlap-save FFT convolution of the stereo
mix with a fixed, synthetic room response (decaying filtered noise, 0.6 s, decorrelated left and
right). The SoundFont samples are dry; a little room makes them sound played, not sequenced.

The wet path has one block (2048 frames, 43 ms) of latency, which acts as the pre-delay; any
chunk size works. The wet level moves linearly across each chunk, so changing it never clicks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Reverb"]

_BLOCK = 2048


def _response(sample_rate: int, seconds: float, rt60: float) -> np.ndarray:
    """The room's impulse response, shape (2, frames), unit energy per channel."""
    frames = int(sample_rate * seconds)
    rng = np.random.default_rng(20240601)
    t = np.arange(frames) / sample_rate
    envelope = np.exp(-6.91 * t / rt60) * np.minimum(1.0, t / 0.004)
    noise = rng.standard_normal((2, frames))
    # darker as it decays: blend toward a smoothed copy over time
    kernel = np.ones(6) / 6
    smooth = np.stack([np.convolve(ch, kernel, mode="same") for ch in noise])
    mix = np.minimum(1.0, t / seconds)
    response = envelope * ((1 - mix) * noise + mix * smooth * 2.0)
    norm = np.sqrt(np.sum(response**2, axis=1, keepdims=True))
    out: np.ndarray = response / norm
    return out


class Reverb:
    """Stateful stereo reverb; :meth:`process` adds ``wet`` times the room to the dry mix."""

    def __init__(self, sample_rate: int = 48000, seconds: float = 0.6, rt60: float = 1.1) -> None:
        response = _response(sample_rate, seconds, rt60)
        parts = -(-response.shape[1] // _BLOCK)
        padded = np.zeros((2, parts * _BLOCK))
        padded[:, : response.shape[1]] = response
        blocks = padded.reshape(2, parts, _BLOCK).transpose(1, 0, 2)
        self._spectra = np.fft.rfft(blocks, n=2 * _BLOCK, axis=2)  # (parts, 2, bins)
        self._parts = parts
        # each spectrum is written twice, so the last ``parts`` of them are always one slice
        self._history = np.zeros((2 * parts, *self._spectra.shape[1:]), dtype=complex)
        self._write = 0
        self._previous = np.zeros((2, _BLOCK))
        self._pending = np.zeros((2, 0))
        self._wet_out = np.zeros((2, _BLOCK))  # the one-block latency
        self._wet = 0.0
        self.wet = 0.0

    def _block(self, block: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(np.concatenate([self._previous, block], axis=1), axis=1)
        self._previous = block
        self._write = (self._write - 1) % self._parts
        self._history[self._write] = spectrum
        self._history[self._write + self._parts] = spectrum
        window = self._history[self._write : self._write + self._parts]  # newest first
        total = np.einsum("pcb,pcb->cb", window, self._spectra)
        out: np.ndarray = np.fft.irfft(total, n=2 * _BLOCK, axis=1)[:, _BLOCK:]
        return out

    def process(self, stereo: np.ndarray) -> np.ndarray:
        """``stereo`` (frames, 2) float → the same plus the reverb, (frames, 2) float64."""
        frames = stereo.shape[0]
        target = float(self.wet)
        if target == 0.0 and self._wet == 0.0 and not self._history.any():
            return stereo.astype(np.float64)
        self._pending = np.concatenate([self._pending, stereo.T.astype(np.float64)], axis=1)
        produced = [self._wet_out]
        while self._pending.shape[1] >= _BLOCK:
            produced.append(self._block(self._pending[:, :_BLOCK]))
            self._pending = self._pending[:, _BLOCK:]
        wet_all = np.concatenate(produced, axis=1)
        wet, self._wet_out = wet_all[:, :frames], wet_all[:, frames:]
        ramp = np.linspace(self._wet, target, frames, endpoint=False)
        self._wet = target
        out: np.ndarray = stereo + (ramp * wet).T
        return out
