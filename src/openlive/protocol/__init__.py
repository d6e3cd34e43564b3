"""Wire-level protocol: routes, credentials, frame codec."""

from .codec import (
    MAX_SERVER_MESSAGE,
    decode_client_message,
    encode_client_message,
    encode_server_message,
    split_message,
)
from .credentials import Credential, Grant, KeyChecker, extract_credential
from .routes import Method, Route, match_route, normalize_path

__all__ = [
    "MAX_SERVER_MESSAGE",
    "Credential",
    "Grant",
    "KeyChecker",
    "Method",
    "Route",
    "decode_client_message",
    "encode_client_message",
    "encode_server_message",
    "extract_credential",
    "match_route",
    "normalize_path",
    "split_message",
]
