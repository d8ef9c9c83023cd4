"""Secrets: key and credential sources, file-mode checks, redaction in repr and logs."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from polymaker.errors import ConfigError
from polymaker.exchange.secrets import (
    REDACTED,
    ApiCredentials,
    RedactingFilter,
    load_api_credentials,
    load_private_key,
)

KEY = "0x" + "ab" * 32


def _private_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_key_from_environment_variable_without_prefix() -> None:
    key = load_private_key({"POLYMAKER_PRIVATE_KEY": "ab" * 32})
    assert key.reveal() == KEY


def test_key_from_private_file(tmp_path: Path) -> None:
    path = _private_file(tmp_path / "key", KEY + "\n")
    assert load_private_key({"POLYMAKER_KEY_FILE": str(path)}).reveal() == KEY


def test_key_file_readable_by_others_is_refused_with_chmod_fix(tmp_path: Path) -> None:
    path = _private_file(tmp_path / "key", KEY, mode=0o644)
    with pytest.raises(ConfigError) as caught:
        load_private_key({"POLYMAKER_KEY_FILE": str(path)})
    assert f"chmod 600 {path}" in str(caught.value)
    assert caught.value.exit_code == 2


def test_missing_key_names_both_variables() -> None:
    with pytest.raises(ConfigError) as caught:
        load_private_key({})
    assert "POLYMAKER_PRIVATE_KEY" in str(caught.value)
    assert "POLYMAKER_KEY_FILE" in str(caught.value)


def test_malformed_key_is_refused_without_echoing_it() -> None:
    bad = "0x" + "zz" * 32
    with pytest.raises(ConfigError) as caught:
        load_private_key({"POLYMAKER_PRIVATE_KEY": bad})
    assert "64 hexadecimal digits" in str(caught.value)
    assert bad not in str(caught.value)


def test_missing_key_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_private_key({"POLYMAKER_KEY_FILE": str(tmp_path / "nope")})


def test_key_repr_and_str_redact() -> None:
    key = load_private_key({"POLYMAKER_PRIVATE_KEY": KEY})
    assert KEY not in repr(key) and KEY not in str(key) and KEY not in f"{key}"


def test_credentials_from_environment() -> None:
    creds = load_api_credentials(
        {
            "POLYMAKER_API_KEY": "key-123456",
            "POLYMAKER_API_SECRET": "secret-123456",
            "POLYMAKER_API_PASSPHRASE": "pass-123456",
        }
    )
    assert creds is not None
    assert creds.values() == ("key-123456", "secret-123456", "pass-123456")
    sdk = creds.to_sdk()
    assert (sdk.key, sdk.secret, sdk.passphrase) == creds.values()
    assert "secret-123456" not in repr(creds) and "secret-123456" not in str(creds)


def test_incomplete_credentials_name_the_missing_variable() -> None:
    with pytest.raises(ConfigError, match="POLYMAKER_API_PASSPHRASE"):
        load_api_credentials({"POLYMAKER_API_KEY": "k", "POLYMAKER_API_SECRET": "s"})


@pytest.mark.parametrize(
    "document",
    [
        {"api_key": "k1", "api_secret": "s1", "api_passphrase": "p1"},
        {"apiKey": "k1", "secret": "s1", "passphrase": "p1"},
    ],
)
def test_credentials_file_in_both_shapes(tmp_path: Path, document: dict[str, str]) -> None:
    path = _private_file(tmp_path / "creds.json", json.dumps(document))
    creds = load_api_credentials({"POLYMAKER_CREDS_FILE": str(path)})
    assert creds == ApiCredentials("k1", "s1", "p1")


def test_credentials_file_must_be_private(tmp_path: Path) -> None:
    path = _private_file(tmp_path / "creds.json", "{}", mode=0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_api_credentials({"POLYMAKER_CREDS_FILE": str(path)})


def test_credentials_file_with_wrong_shape_is_refused(tmp_path: Path) -> None:
    path = _private_file(tmp_path / "creds.json", json.dumps({"key": "k"}))
    with pytest.raises(ConfigError, match="api_passphrase"):
        load_api_credentials({"POLYMAKER_CREDS_FILE": str(path)})


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[" * 5000 + "]" * 5000, "nested deeper"), ('{"api_key": 1, "api_key": 2}', "twice")],
)
def test_an_unreadable_credentials_file_is_a_config_error(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = _private_file(tmp_path / "creds.json", text)
    with pytest.raises(ConfigError, match=problem):
        load_api_credentials({"POLYMAKER_CREDS_FILE": str(path)})


def test_no_credentials_means_derive() -> None:
    assert load_api_credentials({}) is None


def test_filter_redacts_message_args_and_exception_text() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    redactor = RedactingFilter()
    redactor.register(KEY, "supersecretvalue")
    handler.addFilter(redactor)
    logger = logging.getLogger("test_secrets.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("key %s and %s", KEY, "bare " + KEY[2:])
        try:
            raise RuntimeError("boom supersecretvalue")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert KEY[2:] not in text
    assert "supersecretvalue" not in text
    # two in the message, two in the traceback (the source line and the exception text)
    assert text.count(REDACTED) == 4
