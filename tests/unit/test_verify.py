"""Receiver-side verification: every failure mode, rotation, tolerance, header shapes, fuzzing."""

from __future__ import annotations

import base64
import email.message
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from hookwire.core.errors import ValidationError, WebhookVerificationError
from hookwire.core.signing import InvalidSecret, Signer, generate_secret, sign
from hookwire.receiver import (
    DuplicateHeader,
    InvalidBody,
    InvalidToken,
    InvalidVerificationSecret,
    MalformedHeader,
    MissingHeader,
    NoMatchingSignature,
    TimestampOutOfTolerance,
    verify,
    verify_token,
)
from hookwire.receiver.verify import MAX_HEADER_LENGTH, MAX_SIGNATURES

_ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The main fuzz test runs 10,000 examples on CI and a quick 500 locally.
FUZZ = settings(
    max_examples=10_000 if _ON_CI else 500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROPERTY = settings(max_examples=2_000 if _ON_CI else 200, deadline=None)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
NEW_SECRET = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
NOW = datetime.fromtimestamp(TIMESTAMP, UTC)
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
HEADER_NAMES = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
)


def signed(
    body: bytes = BODY,
    *,
    secrets: Iterable[str] = (SECRET,),
    msg_id: str = MSG_ID,
    timestamp: int = TIMESTAMP,
    prefix: str = "webhook",
) -> dict[str, str]:
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(timestamp),
        f"{prefix}-signature": Signer(list(secrets)).sign(msg_id, timestamp, body),
    }


def check(
    headers: Any, body: bytes | bytearray | memoryview = BODY, secret: str | list[str] = SECRET, **kwargs: Any
) -> Any:
    return verify(body, headers, secret, now=kwargs.pop("now", NOW), **kwargs)


# --- the happy paths --------------------------------------------------------------------------


def test_known_answer_vector_verifies() -> None:
    headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP), "webhook-signature": SIGNATURE}
    assert check(headers) == {"test": 2432232314}


def test_svix_prefixed_headers_verify() -> None:
    assert check(signed(prefix="svix")) == {"test": 2432232314}


def test_both_prefixes_with_the_same_values_verify() -> None:
    headers = signed() | signed(prefix="svix")
    assert check(headers) == {"test": 2432232314}


def test_header_names_are_case_insensitive() -> None:
    headers = {name.title(): value for name, value in signed().items()}
    assert "Webhook-Id" in headers
    assert check(headers) == {"test": 2432232314}


def test_unknown_signature_versions_are_skipped() -> None:
    headers = signed()
    headers["webhook-signature"] = (
        "v1a,c29tZXRoaW5nIGVsc2U= v2,anything,at,all " + headers["webhook-signature"]
    )
    assert check(headers) == {"test": 2432232314}


def test_bytes_like_bodies_verify() -> None:
    assert check(signed(), body=bytearray(BODY)) == {"test": 2432232314}
    assert check(signed(), body=memoryview(BODY)) == {"test": 2432232314}


def test_default_now_is_the_system_clock() -> None:
    timestamp = int(datetime.now(UTC).timestamp())
    assert verify(BODY, signed(timestamp=timestamp), SECRET) == {"test": 2432232314}


def test_now_in_another_zone_means_the_same_instant() -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert check(signed(), now=paris) == {"test": 2432232314}


# --- header containers -----------------------------------------------------------------------


def test_pairs_with_a_repeated_identical_header_verify() -> None:
    pairs = [*signed().items(), ("Webhook-Id", MSG_ID)]
    assert check(pairs) == {"test": 2432232314}


def test_asgi_bytes_pairs_verify() -> None:
    pairs = [(name.encode(), value.encode()) for name, value in signed().items()]
    assert check([(b"content-type", b"application/json"), *pairs]) == {"test": 2432232314}


def test_multidict_verifies_and_reports_duplicates() -> None:
    headers = CIMultiDict(signed())
    assert check(headers) == {"test": 2432232314}
    headers.add("WEBHOOK-ID", "msg_other")
    with pytest.raises(DuplicateHeader):
        check(headers)


def test_email_message_headers_verify_and_report_duplicates() -> None:
    message = email.message.Message()
    for name, value in signed().items():
        message[name] = value
    assert check(message) == {"test": 2432232314}
    message["Webhook-Timestamp"] = str(TIMESTAMP + 1)
    with pytest.raises(DuplicateHeader):
        check(message)


class GetListHeaders:
    """Shaped like starlette's and werkzeug's Headers: case-insensitive ``getlist``."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = list(pairs)

    def getlist(self, key: str) -> list[str]:
        return [value for name, value in self._pairs if name.lower() == key.lower()]


class GetListUnderscoreHeaders:
    """Shaped like httpx's Headers: case-insensitive ``get_list``."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = list(pairs)

    def get_list(self, key: str) -> list[str]:
        return [value for name, value in self._pairs if name.lower() == key.lower()]


@pytest.mark.parametrize("container", [GetListHeaders, GetListUnderscoreHeaders])
def test_getlist_containers_verify_and_report_duplicates(
    container: type[GetListHeaders | GetListUnderscoreHeaders],
) -> None:
    pairs = list(signed().items())
    assert check(container(pairs)) == {"test": 2432232314}
    with pytest.raises(DuplicateHeader):
        check(container([*pairs, ("webhook-signature", sign(OLD_SECRET, MSG_ID, TIMESTAMP, BODY))]))


# --- each error, from a crafted request ------------------------------------------------------


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(name: str) -> None:
    headers = signed()
    del headers[name]
    with pytest.raises(MissingHeader, match=name):
        check(headers)


def test_no_headers_at_all() -> None:
    with pytest.raises(MissingHeader):
        check({})


def test_look_alike_header_name_does_not_count() -> None:
    # "\N{KELVIN SIGN}".lower() == "k": a non-ASCII name must not pass for webhook-id.
    headers = signed()
    headers["webhoo\N{KELVIN SIGN}-id"] = headers.pop("webhook-id")
    with pytest.raises(MissingHeader):
        check(headers)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([*signed().items(), ("webhook-id", "msg_other")], id="pairs"),
        pytest.param(signed() | {"WEBHOOK-TIMESTAMP": str(TIMESTAMP + 1)}, id="case-variants"),
        pytest.param(signed() | {"svix-id": "msg_other"}, id="svix-alias"),
    ],
)
def test_duplicate_header_with_different_values(headers: Any) -> None:
    with pytest.raises(DuplicateHeader):
        check(headers)


def with_header(name: str, value: Any) -> dict[str, Any]:
    headers: dict[str, Any] = signed()
    headers[name] = value
    return headers


B64_31_BYTES = base64.b64encode(b"x" * 31).decode()
B64_33_BYTES = base64.b64encode(b"x" * 33).decode()
# Same 32 bytes as a valid signature but with non-zero padding bits: decodes, yet not canonical.
NON_CANONICAL = SIGNATURE[3:-2] + "B="


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("webhook-id", ""),
        ("webhook-id", "msg_\u00e9t\u00e9"),
        ("webhook-id", "msg\x00id"),
        ("webhook-id", "msg\tid"),
        ("webhook-id", "m" * (MAX_HEADER_LENGTH + 1)),
        ("webhook-id", None),
        ("webhook-id", 123),
        ("webhook-timestamp", ""),
        ("webhook-timestamp", "1614265330.0"),
        ("webhook-timestamp", "1614265330.9"),
        ("webhook-timestamp", "1.6e9"),
        ("webhook-timestamp", "+1614265330"),
        ("webhook-timestamp", "-1614265330"),
        ("webhook-timestamp", " 1614265330"),
        ("webhook-timestamp", "1614265330 "),
        ("webhook-timestamp", "01614265330"),
        ("webhook-timestamp", "1_614_265_330"),
        ("webhook-timestamp", "\u0661\u0666\u0661\u0664\u0662\u0666\u0665\u0663\u0663\u0660"),
        ("webhook-timestamp", "9" * 13),
        ("webhook-timestamp", "9" * 5000),
        ("webhook-timestamp", "nan"),
        ("webhook-signature", ""),
        ("webhook-signature", "v1"),
        ("webhook-signature", "v1,"),
        ("webhook-signature", ",abc"),
        ("webhook-signature", "v1,not base64!"),
        ("webhook-signature", "v1,%%%%"),
        ("webhook-signature", f"v1,{B64_31_BYTES}"),
        ("webhook-signature", f"v1,{B64_33_BYTES}"),
        ("webhook-signature", f"v1,{SIGNATURE[3:].rstrip('=')}"),
        ("webhook-signature", f"v1,{NON_CANONICAL}"),
        ("webhook-signature", f"v1,{SIGNATURE[3:].replace('+', '-').replace('/', '_')}"),
        ("webhook-signature", f"{SIGNATURE}  {SIGNATURE}"),
        ("webhook-signature", f" {SIGNATURE}"),
        ("webhook-signature", f"{SIGNATURE} "),
        ("webhook-signature", f"{SIGNATURE} v1,{B64_31_BYTES}"),
        ("webhook-signature", " ".join([SIGNATURE] * (MAX_SIGNATURES + 1))),
        ("webhook-signature", "v2,x " * 2000),
    ],
)
def test_malformed_header(name: str, value: Any) -> None:
    with pytest.raises(MalformedHeader):
        check(with_header(name, value))


def test_at_most_max_signatures_are_accepted() -> None:
    assert check(with_header("webhook-signature", " ".join([SIGNATURE] * MAX_SIGNATURES))) is not None


@pytest.mark.parametrize("offset", [-301, 301, -(10**9), 10**9])
def test_timestamp_outside_tolerance(offset: int) -> None:
    with pytest.raises(TimestampOutOfTolerance):
        check(signed(timestamp=TIMESTAMP + offset))


@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_timestamp_inside_tolerance_bounds_included(offset: int) -> None:
    assert check(signed(timestamp=TIMESTAMP + offset)) == {"test": 2432232314}


def test_tolerance_is_measured_from_whole_seconds_of_now() -> None:
    # A fractional "now" must not push a timestamp exactly at the bound out of tolerance.
    later = NOW + timedelta(seconds=300, milliseconds=999)
    assert check(signed(), now=later) == {"test": 2432232314}
    with pytest.raises(TimestampOutOfTolerance):
        check(signed(), now=later + timedelta(milliseconds=1))


@pytest.mark.parametrize(("offset", "accepted"), [(-10, True), (10, True), (-11, False), (11, False)])
def test_custom_tolerance(offset: int, accepted: bool) -> None:
    headers = signed(timestamp=TIMESTAMP + offset)
    if accepted:
        assert check(headers, tolerance=10) == {"test": 2432232314}
    else:
        with pytest.raises(TimestampOutOfTolerance):
            check(headers, tolerance=10)


def test_no_matching_signature_with_another_secret() -> None:
    with pytest.raises(NoMatchingSignature):
        check(signed(secrets=[OLD_SECRET]))


def test_no_v1_signature_is_no_matching_signature() -> None:
    # Well-formed per the spec, but nothing this receiver can check.
    with pytest.raises(NoMatchingSignature, match="no v1"):
        check(with_header("webhook-signature", "v1a,c29tZXRoaW5n v2,eA=="))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b'"\xed\xa0\x80"', id="utf8-surrogate"),
        pytest.param(b"not json", id="not-json"),
        pytest.param(b'{"a": 1', id="truncated"),
        pytest.param(b'{"a": NaN}', id="nan"),
        pytest.param(b"[" * 2000 + b"]" * 2000, id="too-deep"),
    ],
)
def test_invalid_body_that_is_signed(body: bytes) -> None:
    with pytest.raises(InvalidBody):
        check(signed(body), body=body)


def test_unsigned_invalid_body_is_no_matching_signature() -> None:
    # Authenticity first: an unauthenticated body is never parsed.
    with pytest.raises(NoMatchingSignature):
        check(signed(), body=b"\xff not json")


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("whsec_tooshort", id="too-short"),
        pytest.param("not base64 at all", id="not-base64"),
        pytest.param([], id="empty-list"),
        pytest.param([SECRET, "whsec_"], id="one-bad-of-two"),
        pytest.param([SECRET, None], id="not-a-string"),
        pytest.param(b"raw key bytes", id="bytes"),
        pytest.param(None, id="none"),
    ],
)
def test_invalid_secret(secret: Any) -> None:
    with pytest.raises(InvalidVerificationSecret) as caught:
        check(signed(), secret=secret)
    assert isinstance(caught.value, InvalidSecret)
    assert isinstance(caught.value, ValidationError)
    assert isinstance(caught.value, WebhookVerificationError)
    assert caught.value.code == "invalid_secret"


def test_invalid_secret_is_raised_from_the_decoding_error() -> None:
    with pytest.raises(InvalidVerificationSecret) as caught:
        check(signed(), secret="whsec_c2hvcnQ=")
    assert isinstance(caught.value.__cause__, InvalidSecret)
    assert "c2hvcnQ" not in str(caught.value)


def test_secret_is_checked_before_the_request() -> None:
    # A misconfigured receiver fails the same way whatever arrives.
    with pytest.raises(InvalidVerificationSecret):
        check({}, secret="whsec_")


# --- rotation --------------------------------------------------------------------------------


def test_rotation_header_verifies_with_either_secret() -> None:
    headers = signed(secrets=[NEW_SECRET, OLD_SECRET])
    assert check(headers, secret=NEW_SECRET) == {"test": 2432232314}
    assert check(headers, secret=OLD_SECRET) == {"test": 2432232314}
    with pytest.raises(NoMatchingSignature):
        check(headers, secret=SECRET)


def test_receiver_holding_both_secrets_accepts_either_sender() -> None:
    assert check(signed(secrets=[OLD_SECRET]), secret=[NEW_SECRET, OLD_SECRET]) is not None
    assert check(signed(secrets=[NEW_SECRET]), secret=[NEW_SECRET, OLD_SECRET]) is not None
    with pytest.raises(NoMatchingSignature):
        check(signed(secrets=[SECRET]), secret=[NEW_SECRET, OLD_SECRET])


# --- programmer errors -----------------------------------------------------------------------


@pytest.mark.parametrize("tolerance", [0, -1, True, 1.5, "300", None])
def test_tolerance_must_be_a_positive_int(tolerance: Any) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        check(signed(), tolerance=tolerance)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check(signed(), now=datetime(2021, 2, 25, 15, 2, 10))  # noqa: DTZ001 -- the point of the test


def test_now_must_be_a_datetime() -> None:
    with pytest.raises(TypeError, match="now"):
        check(signed(), now=TIMESTAMP)


def test_body_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="body"):
        check(signed(), body=BODY.decode())  # type: ignore[arg-type]


@pytest.mark.parametrize("headers", [None, "webhook-id: x", 42, [("only-a-name",)]])
def test_headers_must_be_headers(headers: Any) -> None:
    with pytest.raises(TypeError, match="headers"):
        check(headers)


# --- static tokens ---------------------------------------------------------------------------

TOKEN = "s3cr3t-t0ken"


@pytest.mark.parametrize("value", [TOKEN, f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER {TOKEN}"])
def test_token_accepted(value: str) -> None:
    verify_token({"Authorization": value}, TOKEN)


def test_token_in_a_custom_header() -> None:
    verify_token([("X-Webhook-Token", TOKEN)], TOKEN, header="x-webhook-token")
    verify_token({"x-webhook-token": TOKEN}, TOKEN, header="X-Webhook-Token")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"authorization": ""}, id="empty"),
        pytest.param({"authorization": "wrong"}, id="wrong"),
        pytest.param({"authorization": f"{TOKEN}x"}, id="longer"),
        pytest.param({"authorization": TOKEN[:-1]}, id="prefix"),
        pytest.param({"authorization": "Bearer wrong"}, id="bearer-wrong"),
        pytest.param({"authorization": f"Basic {TOKEN}"}, id="other-scheme"),
        pytest.param({"authorization": f"Bearer  {TOKEN}"}, id="two-spaces"),
        pytest.param({"authorization": f"{TOKEN}\u00e9"}, id="non-ascii"),
        pytest.param({"x-token": TOKEN}, id="other-header"),
    ],
)
def test_token_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidToken):
        verify_token(headers, TOKEN)


def test_token_duplicated_with_different_values() -> None:
    with pytest.raises(DuplicateHeader):
        verify_token([("authorization", TOKEN), ("Authorization", "other")], TOKEN)


@pytest.mark.parametrize(("expected", "header"), [("", "authorization"), (TOKEN, ""), (TOKEN, "t\u00f6ken")])
def test_token_programmer_errors(expected: str, header: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        verify_token({"authorization": TOKEN}, expected, header=header)


# --- the public face -------------------------------------------------------------------------

ERRORS = (
    MissingHeader,
    DuplicateHeader,
    MalformedHeader,
    TimestampOutOfTolerance,
    NoMatchingSignature,
    InvalidBody,
    InvalidToken,
    InvalidVerificationSecret,
)


def test_errors_derive_from_the_root_with_distinct_codes() -> None:
    assert all(issubclass(error, WebhookVerificationError) for error in ERRORS)
    codes = {error.code for error in ERRORS}
    assert len(codes) == len(ERRORS)
    assert WebhookVerificationError.code not in codes


# --- fuzzing ---------------------------------------------------------------------------------

header_names = st.one_of(
    st.sampled_from(HEADER_NAMES),
    st.sampled_from(HEADER_NAMES).map(str.upper),
    st.text(max_size=20),
)
near_timestamps = st.integers(min_value=TIMESTAMP - 400, max_value=TIMESTAMP + 400).map(str)
signature_entries = st.one_of(
    st.just(SIGNATURE),
    st.binary(min_size=30, max_size=34).map(lambda raw: "v1," + base64.b64encode(raw).decode()),
    st.tuples(st.sampled_from(["v1", "v1a", "v2", ""]), st.text(max_size=50)).map(",".join),
    st.text(max_size=60),
)
header_values = st.one_of(
    st.text(),
    st.just(MSG_ID),
    near_timestamps,
    st.lists(signature_entries, max_size=4).map(" ".join),
)
header_sets = st.one_of(
    st.dictionaries(header_names, header_values, max_size=8),
    st.lists(st.tuples(header_names, header_values), max_size=8),
    st.lists(
        st.tuples(header_names.map(str.encode), header_values.map(lambda v: v.encode("utf-8", "replace"))),
        max_size=8,
    ),
)
bodies = st.one_of(st.binary(max_size=256), st.just(BODY))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
msg_ids = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40)
offsets = st.integers(min_value=-300, max_value=300)


@st.composite
def near_valid_requests(draw: st.DrawFn) -> tuple[Any, bytes]:
    """A correctly signed request, then a few random edits to its headers and their container.

    Random headers alone almost never get past the header checks; starting from a valid request
    lets the fuzzer reach the timestamp, signature and body checks too.
    """
    body = draw(st.one_of(st.binary(max_size=128), json_values.map(orjson.dumps)))
    timestamp = TIMESTAMP + draw(st.integers(min_value=-400, max_value=400))
    prefix = draw(st.sampled_from(["webhook", "svix"]))
    pairs = list(signed(body, msg_id=draw(msg_ids), timestamp=timestamp, prefix=prefix).items())
    for index in draw(st.lists(st.integers(0, 2), max_size=3, unique=True)):
        pairs[index] = (pairs[index][0], draw(header_values))
    dropped = draw(st.sampled_from([None, None, None, 0, 1, 2]))
    if dropped is not None:
        del pairs[dropped]
    pairs += draw(st.lists(st.tuples(header_names, header_values), max_size=2))
    if draw(st.booleans()):
        pairs = [(name.upper(), value) for name, value in pairs]
    shape = draw(st.sampled_from(["dict", "pairs", "bytes"]))
    if shape == "dict":
        return dict(pairs), body
    if shape == "bytes":
        return [(name.encode(), value.encode("utf-8", "replace")) for name, value in pairs], body
    return pairs, body


requests = st.one_of(st.tuples(header_sets, bodies), near_valid_requests())


@FUZZ
@given(request=requests)
def test_fuzz_verify_returns_or_raises_verification_error(request: tuple[Any, bytes]) -> None:
    headers, body = request
    try:
        payload = check(headers, body=body)
    except WebhookVerificationError:
        return
    assert payload == orjson.loads(body)


@FUZZ
@given(
    msg_id=st.text(max_size=40),
    timestamp=st.text(max_size=20),
    signature=st.text(max_size=200),
    body=bodies,
)
def test_fuzz_signed_header_values(msg_id: str, timestamp: str, signature: str, body: bytes) -> None:
    headers = {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
    with pytest.raises(WebhookVerificationError):
        check(headers, body=body)


@PROPERTY
@given(secret=st.one_of(st.text(max_size=80), st.lists(st.text(max_size=80), max_size=3)))
def test_fuzz_secrets_are_decoded_or_refused(secret: str | list[str]) -> None:
    try:
        check(signed(), secret=secret)
    except InvalidVerificationSecret:
        pass
    except NoMatchingSignature:
        # Only a well-formed secret gets this far; it is not the one that signed.
        assert secret != SECRET


@PROPERTY
@given(value=json_values, msg_id=msg_ids, offset=offsets, n_secrets=st.integers(1, 3), data=st.data())
def test_round_trip_with_any_of_the_secrets(
    value: Any, msg_id: str, offset: int, n_secrets: int, data: st.DataObject
) -> None:
    secrets = [generate_secret() for _ in range(n_secrets)]
    body = orjson.dumps(value)
    headers = signed(body, secrets=secrets, msg_id=msg_id, timestamp=TIMESTAMP + offset)
    receiver_secret = data.draw(st.sampled_from(secrets))
    assert check(headers, body=body, secret=receiver_secret) == orjson.loads(body)


def flip_bit(raw: bytes, position: int) -> bytes:
    index = position % len(raw)
    return raw[:index] + bytes([raw[index] ^ (1 << (position % 8))]) + raw[index + 1 :]


@FUZZ
@given(
    body=st.binary(min_size=1, max_size=512),
    msg_id=msg_ids,
    offset=offsets,
    position=st.integers(min_value=0, max_value=10**6),
    mutation=st.sampled_from(["flip-body", "truncate-body", "extend-body", "id", "timestamp", "secret"]),
    other_id=msg_ids,
    other_offset=offsets,
)
def test_no_false_accepts(
    body: bytes,
    msg_id: str,
    offset: int,
    position: int,
    mutation: str,
    other_id: str,
    other_offset: int,
) -> None:
    timestamp = TIMESTAMP + offset
    headers = signed(body, msg_id=msg_id, timestamp=timestamp)
    signature = headers["webhook-signature"]
    if mutation == "flip-body":
        body = flip_bit(body, position)
    elif mutation == "truncate-body":
        body = body[: position % len(body)]
    elif mutation == "extend-body":
        body += bytes([position % 256])
    elif mutation == "id":
        assume(other_id != msg_id)
        headers["webhook-id"] = other_id
    elif mutation == "timestamp":
        assume(other_offset != offset)
        headers["webhook-timestamp"] = str(TIMESTAMP + other_offset)
    else:
        headers["webhook-signature"] = sign(generate_secret(), msg_id, timestamp, body)
    assert headers["webhook-signature"] == signature or mutation == "secret"
    with pytest.raises(NoMatchingSignature):
        check(headers, body=body)
