"""Configuration: file < environment < flags, validation, TLS certificate generation."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from openlive.errors import ConfigError
from openlive.server import SETTINGS, ServerConfig, load_config
from openlive.server.tls import ensure_self_signed


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    path = tmp_path / "openlive.toml"
    path.write_text(
        '[server]\nport = 9000\ntls_port = 9443\nmodel = "echo"\nmax_sessions = 3\n'
        '[models]\n"my-model" = "echo"\n'
    )
    config = load_config(path, env={}, flags={})
    assert (config.port, config.tls_port, config.model, config.max_sessions) == (
        9000,
        9443,
        "echo",
        3,
    )
    assert config.models == {"my-model": "echo"}
    env = {"OPENLIVE_PORT": "9100", "OPENLIVE_API_KEYS": "a, b", "OPENLIVE_BINARY_FRAMES": "true"}
    config = load_config(path, env=env, flags={})
    assert config.port == 9100 and config.api_keys == ["a", "b"] and config.binary_frames
    config = load_config(path, env=env, flags={"port": 9200, "api_keys": ["c"]})
    assert config.port == 9200 and config.api_keys == ["c"]
    assert config.tls_port == 9443  # untouched by env and flags


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('model = "echo"\n')
    assert load_config(env={"OPENLIVE_CONFIG": str(path)}).model == "echo"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"env": {"OPENLIVE_PORT": "eighty"}}, "port"),
        ({"flags": {"model": "nope"}}, "embedded, echo or remote"),
        ({"flags": {"model": "remote"}}, "remote_url"),
        ({"flags": {"asr": "remote", "asr_url": "localhost:9000"}}, "asr_url must be an http"),
        ({"flags": {"tts": "remote", "tts_url": "ftp://x/v1"}}, "tts_url must be an http"),
        ({"flags": {"host": "0.0.0.0"}}, "--api-key"),
        ({"flags": {"tls_cert": "/x.pem"}}, "together"),
    ],
)
def test_bad_settings_are_explained(kwargs: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_config(env=kwargs.get("env", {}), flags=kwargs.get("flags", {}))


def test_unknown_file_setting(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("colour = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_config(path, env={})


def test_public_bind_allowed_with_key_or_explicit_opt_out() -> None:
    assert load_config(env={}, flags={"host": "0.0.0.0", "api_keys": ["k"]}).host == "0.0.0.0"
    assert load_config(env={}, flags={"host": "0.0.0.0", "insecure_no_auth": True})
    assert ServerConfig(host="::1").is_loopback()


def test_every_setting_is_documented() -> None:
    from dataclasses import fields

    assert {f.name for f in fields(ServerConfig)} == set(SETTINGS)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    for name in SETTINGS:
        assert f"`{name}`" in docs and f"OPENLIVE_{name.upper()}" in docs


def test_self_signed_certificate_verifies_for_localhost(tmp_path: Path) -> None:
    cert, key = ensure_self_signed(tmp_path)
    assert ensure_self_signed(tmp_path) == (cert, key)  # generated once
    ctx = ssl.create_default_context(cafile=str(cert))
    assert ctx.cert_store_stats()["x509_ca"] == 1
    from cryptography import x509

    san = x509.load_pem_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert "localhost" in san.value.get_values_for_type(x509.DNSName)
    assert (key.stat().st_mode & 0o777) == 0o600


def test_cli_version_and_refusal() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "openlive.cli.main", "--version"], capture_output=True, text=True
    )
    assert out.stdout.startswith("openlive ")
    out = subprocess.run(
        [sys.executable, "-m", "openlive.cli.main", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2 and "--insecure-no-auth" in out.stderr


def test_protocol_doc_lists_every_field_treatment() -> None:
    from openlive.session import FIELD_TREATMENT

    docs = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    for path, treatment in FIELD_TREATMENT.items():
        assert f"| `{path}` | {treatment.value} |" in docs, path


def test_documented_flags_exist() -> None:
    import re

    from openlive.cli.main import build_parser

    parser = build_parser()
    serve = parser._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    flags = {opt for action in serve._actions for opt in action.option_strings}
    docs = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"\| `(--[a-z-]+)`", docs))
    assert documented and documented <= flags, documented - flags
