"""The seeing half of a Live session: image frames streamed in, and the turns that read them.

Frames (``realtimeInput.video``, image ``mediaChunks``) are held, the latest
``vision.max_frames`` of them, until a user turn begins; the turn then takes the latest frame
(or, with ``turnCoverage: TURN_INCLUDES_ALL_INPUT``, every frame held) as an image part ahead
of its words, so the reply reads what the user was looking at when they spoke. A frame equal to
the last one a turn took is not added again (a shared screen that did not change). Images in
``clientContent`` turns are kept where the client put them.

Checks here are the cheap ones (MIME type and size, a reason naming the field); the runtime
decodes every image off the event loop as it arrives (:class:`SeeFrame`) and closes the
session with 1007 if the bytes are not an image.

Usage: each image in a reply's prompt counts :func:`image_tokens` tokens of the ``IMAGE``
modality (258 a frame, 66 at ``MEDIA_RESOLUTION_LOW``: the hosted API's per-frame rates).
"""

from __future__ import annotations

import hashlib

from ..errors import InvalidArgument
from ..types import Blob, Content, Part
from .events import Action, ChatMessage, InlinePart, SeeFrame
from .state import SessionState

__all__ = ["IMAGE_TYPES", "Seeing", "image_tokens"]

IMAGE_TYPES = ("image/jpeg", "image/jpg", "image/png", "image/webp")
"""Image MIME types accepted in frames and ``inlineData`` parts."""


def image_tokens(resolution: str | None) -> int:
    """Tokens one image counts for in ``usageMetadata`` at a ``mediaResolution``."""
    return 66 if resolution == "MEDIA_RESOLUTION_LOW" else 258


def is_image(mime_type: str | None) -> bool:
    return (mime_type or "").split(";", 1)[0].strip().lower().startswith("image/")


class Seeing:
    """Mixed into :class:`~openlive.session.machine.LiveSession`."""

    state: SessionState

    def _resolution(self) -> str | None:
        gc = self.state.setup.generation_config
        return gc.media_resolution if gc is not None else None

    def _check_image(self, blob: Blob, where: str) -> str:
        mime = (blob.mime_type or "").split(";", 1)[0].strip().lower()
        if mime not in IMAGE_TYPES:
            raise InvalidArgument(
                f"{where}: MIME type {blob.mime_type!r} is not supported for images; "
                "send image/jpeg, image/png or image/webp"
            )
        limit = self.state.vision.max_frame_bytes
        if len(blob.data) > limit:
            raise InvalidArgument(
                f"{where}: a {len(blob.data) / 2**20:.1f} MiB image is over the "
                f"{limit / 2**20:.1f} MiB frame limit"
            )
        if not blob.data:
            raise InvalidArgument(f"{where}: the {mime} data is empty")
        return mime

    def _frame(self, blob: Blob, where: str) -> list[Action]:
        """A frame streamed in: held for the next user turn, described ahead by the runtime."""
        mime = self._check_image(blob, where)
        vision = self.state.vision
        vision.received += 1
        vision.frames.append(Blob(mime_type=mime, data=blob.data))
        del vision.frames[: -max(1, vision.max_frames)]
        return [SeeFrame(mime, blob.data, where, self._resolution())]

    def _turn_images(self, turn: Content, where: str) -> list[Action]:
        """Check the images of a ``clientContent`` turn and have them described ahead."""
        actions: list[Action] = []
        for part in turn.parts:
            blob = part.inline_data
            if blob is not None and is_image(blob.mime_type):
                mime = self._check_image(blob, where)
                actions.append(SeeFrame(mime, blob.data, where, self._resolution()))
        return actions

    def _frames_for_turn(self, *, take: bool) -> list[Part]:
        """The frame parts a user turn beginning now reads (``take``: and they are used up)."""
        vision = self.state.vision
        if not vision.frames:
            return []
        ric = self.state.setup.realtime_input_config
        every = ric is not None and ric.turn_coverage in (
            "TURN_INCLUDES_ALL_INPUT",
            "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",  # audio in activity, every frame
        )
        frames = list(vision.frames) if every else vision.frames[-max(1, vision.per_turn) :]
        digest = _digest(frames[-1].data)
        if take:
            vision.frames = []
        if digest == vision.last_digest and len(frames) == 1:
            return []  # the screen did not change since the last turn read it
        if take:
            vision.last_digest = digest
        return [Part(inline_data=f) for f in frames]

    def _user_turn(self, text: str) -> Content:
        """A spoken or typed user turn, with the frames it reads ahead of its words."""
        return Content(role="user", parts=[*self._frames_for_turn(take=True), Part(text=text)])

    def _pending_user(self, text: str) -> ChatMessage:
        """The turn :meth:`_user_turn` will make, for reading a prompt ahead of time."""
        parts = [
            InlinePart(p.inline_data.mime_type or "", p.inline_data.data)
            for p in self._frames_for_turn(take=False)
            if p.inline_data is not None
        ]
        return ChatMessage("user", (*parts, *ChatMessage.of_text("user", text).parts))

    def _image_tokens(self, messages: tuple[ChatMessage, ...]) -> int:
        count = sum(
            1
            for m in messages
            for part in m.parts
            if isinstance(part, InlinePart) and is_image(part.mime_type)
        )
        return count * image_tokens(self._resolution())


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()
