"""Screen and image text reading with PP-OCR models bundled in a RapidOCR wheel.

Two packages ship PaddleOCR's PP-OCR models (Apache-2.0) as ONNX files inside their wheels
and run them on onnxruntime; either serves (:data:`BACKENDS`, the first installed is used):

* ``rapidocr`` 3.10.0 (Apache-2.0; ``LICENSE`` and ``MODEL_LICENSES.md`` in the wheel):
  ``models/PP-OCRv6_det_small.onnx`` (9.9 MB), ``models/PP-OCRv6_rec_small.onnx`` (21 MB),
  ``models/ch_ppocr_mobile_v2.0_cls_mobile.onnx`` (0.6 MB). Reads English with its spaces,
  runs on headless OpenCV and any Python 3. The package can download other models; here it
  is always given the bundled files' paths, so it never does.
* ``rapidocr-onnxruntime`` 1.4.4 (Apache-2.0 in its metadata):
  ``models/ch_PP-OCRv4_det_infer.onnx`` (4.7 MB), ``models/ch_PP-OCRv4_rec_infer.onnx``
  (10.9 MB), ``models/ch_ppocr_mobile_v2.0_cls_infer.onnx`` (0.6 MB); no download code.
  Python < 3.13, and OpenCV with GUI libraries (``libgl1``). Its recogniser runs English
  words together unless spaces are decoded with a bias (:data:`SPACE_BIAS`).

Both run with the thread count given to :class:`TextReader` (the server's thread budget),
never more. The line classifier (0/180 degrees) is off by default: screen text is upright.

Detection runs on the image as given (the vision stage has already scaled it to the working
resolution); lines are returned in reading order (:func:`reading_order`): top to bottom and
left to right, the pieces the detector found on one row joined into one line (``" | "``
between pieces far apart, as in a table or a row of buttons), and independent columns (a
sidebar beside a document) read one after the other rather than interleaved.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import EngineError

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "BACKENDS",
    "SPACE_BIAS",
    "WIDE_GAP",
    "Box",
    "TextLine",
    "TextReader",
    "join_rows",
    "ocr_available",
    "ocr_backend",
    "reading_order",
    "scale_box",
]

Box = tuple[int, int, int, int]
"""``(left, top, right, bottom)`` in pixels, right and bottom exclusive."""

WIDE_GAP = 1.5
"""Pieces on one row further apart than this many line heights are joined with ``" | "``,
and a vertical band free of text this wide separates columns."""

BACKENDS = ("rapidocr", "rapidocr_onnxruntime")
"""The OCR packages :class:`TextReader` can use (import names), in order of preference."""

SPACE_BIAS = 20.0
"""With ``rapidocr-onnxruntime``, the recogniser's space probability is multiplied by this
before decoding.

The PP-OCRv4 recogniser was trained mostly on Chinese, where words have no spaces; on
English it often runs words together ("Error:Filenotfound:report.pdf"), the more so on JPEG
frames, while the space still has a clear second-best probability in the gaps. Measured on
rendered dialogs, paragraphs and terminal text (PNG and JPEG, 11-22 px): a factor of 10
still loses some spaces, 30 starts adding spurious ones ("< module>", "found :"); 15-20
restores them all without adding any."""


@dataclass(frozen=True)
class TextLine:
    """One line of text read from an image: its words, box and recognition confidence."""

    text: str
    box: Box
    confidence: float

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def center(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    def scaled(self, factor: float) -> TextLine:
        """The same line with its box multiplied by ``factor`` (work -> frame pixels)."""
        return TextLine(self.text, scale_box(self.box, factor), self.confidence)


def scale_box(box: Box, factor: float) -> Box:
    """``box`` with every coordinate multiplied by ``factor`` and rounded."""
    left, top, right, bottom = box
    return round(left * factor), round(top * factor), round(right * factor), round(bottom * factor)


def ocr_backend() -> str | None:
    """The first of :data:`BACKENDS` that is installed, or None."""
    for name in BACKENDS:
        try:
            if importlib.util.find_spec(name) is not None:
                return name
        except (ImportError, ValueError):
            continue
    return None


def ocr_available() -> bool:
    """Whether an OCR package with bundled models (:data:`BACKENDS`) is installed."""
    return ocr_backend() is not None


def _median_height(pieces: list[TextLine]) -> int:
    return max(1, sorted(p.height for p in pieces)[len(pieces) // 2])


def join_rows(pieces: list[TextLine]) -> list[TextLine]:
    """Group text pieces into rows and join each row, left to right, into one line; rows
    are returned top to bottom. A piece belongs to a row when the vertical centres of the
    two are closer than half the shorter height (measured against the row's first piece,
    so a row never grows into the next one). A line's confidence is the length-weighted
    mean of its pieces'."""
    rows: list[list[TextLine]] = []
    for piece in sorted(pieces, key=lambda p: p.center[1]):
        for row in reversed(rows):
            anchor = row[0]
            if abs(piece.center[1] - anchor.center[1]) < 0.5 * min(piece.height, anchor.height):
                row.append(piece)
                break
        else:
            rows.append([piece])
    lines = [_join(row) for row in rows]
    lines.sort(key=lambda line: (line.box[1], line.box[0]))
    return lines


def _bands(pieces: list[TextLine], axis: int, min_gap: float) -> list[list[TextLine]]:
    """Split pieces where their projection on ``axis`` (0: x, 1: y) has an empty gap of at
    least ``min_gap`` pixels; the groups come in order along the axis."""
    ordered = sorted(pieces, key=lambda p: p.box[axis])
    groups: list[list[TextLine]] = [[ordered[0]]]
    reach = ordered[0].box[axis + 2]
    for piece in ordered[1:]:
        if piece.box[axis] - reach >= min_gap:
            groups.append([piece])
        else:
            groups[-1].append(piece)
        reach = max(reach, piece.box[axis + 2])
    return groups


def _aligned(columns: list[list[TextLine]], height: int) -> bool:
    """Whether side-by-side groups share their rows (a table, a row of buttons, chart labels)
    rather than being independent columns (a sidebar beside a document)."""
    centres = [[p.center[1] for p in column] for column in columns]
    matched = total = 0
    for index, column in enumerate(centres):
        others = [y for other, ys in enumerate(centres) if other != index for y in ys]
        for y in column:
            total += 1
            matched += any(abs(y - other) <= 0.25 * height for other in others)
    return matched >= 0.6 * total


def reading_order(pieces: list[TextLine]) -> list[TextLine]:
    """Text pieces as lines in reading order, by recursive cuts along empty bands: a region
    is first cut where a horizontal band of half a line height or more is free of text
    (top to bottom), else where a vertical band of :data:`WIDE_GAP` line heights is (left to right:
    columns, a sidebar), unless the columns share their rows (a table, chart labels, a row
    of buttons), which are then joined row by row (:func:`join_rows`)."""
    if len(pieces) <= 1:
        return join_rows(pieces)
    height = _median_height(pieces)
    bands = _bands(pieces, 1, 0.5 * height)
    if len(bands) > 1:
        return [line for band in bands for line in reading_order(band)]
    columns = _bands(pieces, 0, WIDE_GAP * height)
    if len(columns) > 1 and not _aligned(columns, height):
        return [line for column in columns for line in reading_order(column)]
    return join_rows(pieces)


def _join(row: list[TextLine]) -> TextLine:
    row = sorted(row, key=lambda p: p.box[0])
    height = sorted(p.height for p in row)[len(row) // 2]
    text = row[0].text
    for before, piece in itertools.pairwise(row):
        gap = piece.box[0] - before.box[2]
        text += (" | " if gap > WIDE_GAP * max(1, height) else " ") + piece.text
    box = (
        min(p.box[0] for p in row),
        min(p.box[1] for p in row),
        max(p.box[2] for p in row),
        max(p.box[3] for p in row),
    )
    weight = sum(max(1, len(p.text)) for p in row)
    confidence = sum(p.confidence * max(1, len(p.text)) for p in row) / weight
    return TextLine(text, box, round(confidence, 3))


Piece = tuple[Any, str, float]
"""What a backend returns per detected text: four corner points, text, confidence."""


class TextReader:
    """PP-OCR text detection and recognition on onnxruntime, loaded on first use.

    ``threads`` is onnxruntime's intra-op thread count (and OpenCV's, which the packages use
    for image operations); calls are serialised, one image at a time. ``min_confidence``
    drops lines the recogniser is unsure of; ``rotated`` turns on the classifier that reads
    upside-down lines (costs time, rarely useful on screens). ``backend`` picks one of
    :data:`BACKENDS` (default: the first installed)."""

    def __init__(
        self,
        threads: int = 1,
        *,
        min_confidence: float = 0.5,
        rotated: bool = False,
        backend: str | None = None,
    ) -> None:
        # the packages fall back to onnxruntime's default (every core) beyond the CPU count
        self.threads = max(1, min(int(threads), os.cpu_count() or 1))
        self.min_confidence = min_confidence
        self.rotated = rotated
        self.backend = backend
        self.load_seconds = 0.0
        self._run: Callable[[Any], list[Piece]] | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._run is not None

    def load(self) -> None:
        """Load the ONNX models (well under a second); later calls do nothing."""
        with self._lock:
            if self._run is None:
                start = time.perf_counter()
                self._run = self._create()
                self.load_seconds = time.perf_counter() - start

    def _create(self) -> Callable[[Any], list[Piece]]:
        name = self.backend or ocr_backend()
        if name not in BACKENDS:
            raise EngineError(
                "screen reading needs rapidocr or rapidocr-onnxruntime: "
                "pip install 'openlive[embedded]'"
            )
        try:
            module: Any = importlib.import_module(name)
            cv2: Any = importlib.import_module("cv2")
        except ImportError as exc:
            raise EngineError(f"screen reading: {name} cannot be imported ({exc})") from exc
        cv2.setNumThreads(self.threads)
        if name == "rapidocr":
            return self._rapidocr(module)
        return self._rapidocr_onnxruntime(module)

    def _rapidocr(self, module: Any) -> Callable[[Any], list[Piece]]:
        models = Path(module.__file__).parent / "models"
        paths = {}
        for task in ("det", "rec", "cls"):
            found = sorted(models.glob(f"*{task}*.onnx"))
            if not found:
                raise EngineError(f"rapidocr's bundled {task} model is missing from {models}")
            paths[task] = str(found[-1])
        engine = module.RapidOCR(
            params={
                "Global.log_level": "error",
                "Global.text_score": self.min_confidence,
                "Global.use_cls": self.rotated,
                "Global.max_side_len": 8192,
                # explicit paths: the bundled files, never a download
                "Det.model_path": paths["det"],
                "Rec.model_path": paths["rec"],
                "Cls.model_path": paths["cls"],
                # the stage scales frames itself: detect at the size given, never enlarge
                # to the package's default 736-pixel shortest side
                "Det.limit_type": "max",
                "Det.limit_side_len": 8192,
                "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

        def run(bgr: Any) -> list[Piece]:
            out = engine(bgr)
            if out.boxes is None or out.txts is None or out.scores is None:
                return []
            return list(zip(out.boxes, out.txts, out.scores, strict=False))

        return run

    def _rapidocr_onnxruntime(self, module: Any) -> Callable[[Any], list[Piece]]:
        engine = module.RapidOCR(
            intra_op_num_threads=self.threads,
            inter_op_num_threads=1,
            text_score=self.min_confidence,
            use_cls=self.rotated,
            print_verbose=False,
            det_limit_type="max",
            det_limit_side_len=8192,
            max_side_len=8192,
        )
        decoder = getattr(getattr(engine, "text_rec", None), "postprocess_op", None)
        characters = getattr(decoder, "character", None)
        if decoder is not None and characters and characters[-1] == " ":
            engine.text_rec.postprocess_op = _SpaceBias(decoder, len(characters) - 1)

        def run(bgr: Any) -> list[Piece]:
            result, _ = engine(bgr)
            return [(points, text, score) for points, text, score in result or ()]

        return run

    def read(self, image: Image.Image) -> list[TextLine]:
        """The text lines of ``image`` (RGB), in reading order, boxes in its pixels."""
        import numpy as np

        self.load()
        assert self._run is not None
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        bgr = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
        with self._lock:
            found = self._run(bgr)
        pieces: list[TextLine] = []
        for points, text, score in found:
            # NFKC folds the full-width punctuation the Chinese-trained models often give
            # (U+FF0C comma, U+FF1A colon, U+FF08 parenthesis) into ASCII
            words = " ".join(unicodedata.normalize("NFKC", str(text)).split())
            if not any(ch.isalnum() for ch in words):
                continue  # a lone symbol is most often a shape read as text
            xs = [float(p[0]) for p in points]
            ys = [float(p[1]) for p in points]
            box = (int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1)
            pieces.append(TextLine(words, box, float(score)))
        return reading_order(pieces)


class _SpaceBias:
    """Wraps ``rapidocr-onnxruntime``'s CTC decoder: scales the space column of the
    recogniser's output probabilities by :data:`SPACE_BIAS` (capped at 1) before the usual
    greedy decoding."""

    def __init__(self, decoder: Any, space: int) -> None:
        self.decoder = decoder
        self.space = space
        self.character = decoder.character

    def __call__(self, preds: Any, *args: Any, **kwargs: Any) -> Any:
        import numpy as np

        biased = np.array(preds, dtype=np.float32, copy=True)
        biased[:, :, self.space] = np.minimum(1.0, biased[:, :, self.space] * SPACE_BIAS)
        return self.decoder(biased, *args, **kwargs)
