"""Sender-side signing: the spec's known answer, rotation, secrets, and the reference libraries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
import svix.webhooks
from hypothesis import given, settings
from hypothesis import strategies as st

from hookwire.core.errors import ValidationError
from hookwire.core.signing import (
    SECRET_PREFIX,
    InvalidSecret,
    Signer,
    decode_secret,
    generate_secret,
    sign,
)
from hookwire.receiver import verify

# Standard Webhooks known-answer vector (spec test vectors, also in the reference libraries).
KAT_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KAT_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
KAT_TIMESTAMP = 1614265330
KAT_BODY = b'{"test": 2432232314}'
KAT_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OTHER_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()

msg_ids = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64)
timestamps = st.integers(min_value=0, max_value=10**11)


def headers_for(msg_id: str, timestamp: int, signature: str, prefix: str = "webhook") -> dict[str, str]:
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(timestamp),
        f"{prefix}-signature": signature,
    }


def test_known_answer_vector() -> None:
    assert sign(KAT_SECRET, KAT_ID, KAT_TIMESTAMP, KAT_BODY) == KAT_SIGNATURE
    assert Signer([KAT_SECRET]).sign(KAT_ID, KAT_TIMESTAMP, KAT_BODY) == KAT_SIGNATURE


def test_signer_is_reusable() -> None:
    # The precomputed HMAC state is copied per message, never consumed.
    signer = Signer([KAT_SECRET])
    assert signer.sign("other", 1, b"x") != KAT_SIGNATURE
    assert signer.sign(KAT_ID, KAT_TIMESTAMP, KAT_BODY) == KAT_SIGNATURE


def test_two_secrets_give_two_space_separated_signatures() -> None:
    header = Signer([OTHER_SECRET, KAT_SECRET]).sign(KAT_ID, KAT_TIMESTAMP, KAT_BODY)
    first, second = header.split(" ")
    assert first == sign(OTHER_SECRET, KAT_ID, KAT_TIMESTAMP, KAT_BODY)
    assert second == KAT_SIGNATURE


def test_duplicate_secrets_sign_once() -> None:
    assert Signer([KAT_SECRET, KAT_SECRET]).sign(KAT_ID, KAT_TIMESTAMP, KAT_BODY) == KAT_SIGNATURE


def test_signer_needs_at_least_one_secret() -> None:
    with pytest.raises(InvalidSecret):
        Signer([])


def test_signer_rejects_a_bare_string() -> None:
    with pytest.raises(TypeError, match="sequence"):
        Signer(KAT_SECRET)


@pytest.mark.parametrize("timestamp", [-1, 1.5, True, "1614265330"])
def test_sign_rejects_a_timestamp_that_is_not_unix_seconds(timestamp: object) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        Signer([KAT_SECRET]).sign(KAT_ID, timestamp, KAT_BODY)  # type: ignore[arg-type]


@given(msg_id=msg_ids, timestamp=timestamps, body=st.binary(max_size=2048))
@settings(max_examples=200, deadline=None)
def test_signature_is_hmac_sha256_of_id_timestamp_body(msg_id: str, timestamp: int, body: bytes) -> None:
    key = decode_secret(KAT_SECRET)
    digest = hmac.digest(key, f"{msg_id}.{timestamp}.".encode() + body, "sha256")
    assert sign(KAT_SECRET, msg_id, timestamp, body) == "v1," + base64.b64encode(digest).decode()


def test_generate_secret_holds_32_random_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith(SECRET_PREFIX)
    assert len(decode_secret(secret)) == 32
    assert generate_secret() != secret


def test_decode_secret_accepts_the_prefix_or_not() -> None:
    expected = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert decode_secret(KAT_SECRET) == expected
    assert decode_secret(KAT_SECRET.removeprefix(SECRET_PREFIX)) == expected


@pytest.mark.parametrize("size", [24, 64])
def test_decode_secret_accepts_the_length_bounds(size: int) -> None:
    assert len(decode_secret(SECRET_PREFIX + base64.b64encode(b"k" * size).decode())) == size


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("", id="empty"),
        pytest.param("whsec_", id="prefix-only"),
        pytest.param("whsec_" + base64.b64encode(b"k" * 23).decode(), id="23-bytes"),
        pytest.param("whsec_" + base64.b64encode(b"k" * 65).decode(), id="65-bytes"),
        pytest.param("whsec_" + base64.b64encode(b"k" * 32).decode().rstrip("="), id="missing-padding"),
        pytest.param("whsec_" + base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(), id="urlsafe-alphabet"),
        pytest.param("whsec_MfKQ9r8GKYqrTwjU PD8ILPZIo2LaLaSw", id="inner-space"),
        pytest.param(KAT_SECRET + "\n", id="trailing-newline"),
        pytest.param("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS\u00e9", id="non-ascii"),
        pytest.param("whsec_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", id="not-base64"),
        pytest.param(None, id="none"),
        pytest.param(b"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id="bytes"),
    ],
)
def test_decode_secret_rejects_bad_secrets(secret: object) -> None:
    with pytest.raises(InvalidSecret) as caught:
        decode_secret(secret)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValidationError)
    assert caught.value.code == "invalid_secret"
    if isinstance(secret, str) and secret.removeprefix(SECRET_PREFIX):
        assert secret.removeprefix(SECRET_PREFIX) not in str(caught.value)


# Interoperability: DESIGN.md promises that what the reference libraries accept, we produce.


def test_our_signatures_verify_with_standardwebhooks() -> None:
    timestamp = int(time.time())
    body = b'{"type": "invoice.paid", "amount": 12}'
    header = Signer([generate_secret(), KAT_SECRET]).sign("msg_1", timestamp, body)
    payload = standardwebhooks.Webhook(KAT_SECRET).verify(body, headers_for("msg_1", timestamp, header))
    assert payload == {"type": "invoice.paid", "amount": 12}


@pytest.mark.parametrize("prefix", ["webhook", "svix"])
def test_our_signatures_verify_with_svix(prefix: str) -> None:
    timestamp = int(time.time())
    body = b'{"type": "invoice.paid"}'
    header = Signer([KAT_SECRET, generate_secret()]).sign("msg_1", timestamp, body)
    # svix's verify returns None on success and raises otherwise.
    svix.webhooks.Webhook(KAT_SECRET).verify(body, headers_for("msg_1", timestamp, header, prefix))


@pytest.mark.parametrize("prefix", ["webhook", "svix"])
def test_our_signatures_are_rejected_by_svix_with_another_secret(prefix: str) -> None:
    timestamp = int(time.time())
    header = sign(generate_secret(), "msg_1", timestamp, b"{}")
    with pytest.raises(svix.webhooks.WebhookVerificationError):
        svix.webhooks.Webhook(KAT_SECRET).verify(b"{}", headers_for("msg_1", timestamp, header, prefix))


def test_standardwebhooks_signatures_verify_with_ours() -> None:
    moment = datetime.fromtimestamp(int(time.time()), UTC)
    body = '{"type": "invoice.paid", "note": "caf\u00e9"}'
    header = standardwebhooks.Webhook(OTHER_SECRET).sign("msg_2", moment, body)
    headers = headers_for("msg_2", int(moment.timestamp()), header)
    assert verify(body.encode(), headers, OTHER_SECRET) == {"type": "invoice.paid", "note": "caf\u00e9"}


def test_svix_signatures_verify_with_ours() -> None:
    moment = datetime.fromtimestamp(int(time.time()), UTC)
    header = svix.webhooks.Webhook(OTHER_SECRET).sign("msg_3", moment, '{"n": 1}')
    headers = headers_for("msg_3", int(moment.timestamp()), header, "svix")
    assert verify(b'{"n": 1}', headers, OTHER_SECRET) == {"n": 1}


@given(
    msg_id=msg_ids,
    timestamp=st.integers(min_value=0, max_value=2**32),
    text=st.text(max_size=512),
)
@settings(max_examples=200, deadline=None)
def test_same_signature_as_standardwebhooks(msg_id: str, timestamp: int, text: str) -> None:
    # Differential check over arbitrary ids, times and UTF-8 bodies. The reference signs a str
    # (bytes would be signed as their repr) and a datetime, which must be UTC-aware.
    reference = standardwebhooks.Webhook(KAT_SECRET).sign(
        msg_id, datetime.fromtimestamp(timestamp, UTC), text
    )
    assert sign(KAT_SECRET, msg_id, timestamp, text.encode()) == reference


def test_large_body_signs_like_the_concatenated_content() -> None:
    body = hashlib.sha256(b"seed").digest() * 40_000  # 1.28 MB
    key = decode_secret(KAT_SECRET)
    digest = hmac.digest(key, b"msg_big.1614265330." + body, "sha256")
    assert sign(KAT_SECRET, "msg_big", 1614265330, body) == "v1," + base64.b64encode(digest).decode()
