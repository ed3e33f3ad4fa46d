"""TLS receivers with bad certificates, made with trustme: every attempt is a classified ``tls``
failure, and no attempt ever falls back to an unverified or a plaintext connection."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hookwire import AttemptError, DeliveryStatus
from tests.conftest import HooksFactory
from tests.reliability.conftest import attempts, delivery, loopback_settings
from tests.reliability.servers import TLSServer

ATTEMPTS = 3
Certificate = Callable[[trustme.CA, Path], ssl.SSLContext]


def _serving(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return context


def valid(ca: trustme.CA, folder: Path) -> ssl.SSLContext:
    return _serving(ca.issue_cert("127.0.0.1"))


def expired(ca: trustme.CA, folder: Path) -> ssl.SSLContext:
    now = dt.datetime.now(dt.UTC)
    return _serving(
        ca.issue_cert(
            "127.0.0.1", not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)
        )
    )


def wrong_host(ca: trustme.CA, folder: Path) -> ssl.SSLContext:
    return _serving(ca.issue_cert("receiver.example"))


def unknown_authority(ca: trustme.CA, folder: Path) -> ssl.SSLContext:
    return _serving(trustme.CA().issue_cert("127.0.0.1"))


def self_signed(ca: trustme.CA, folder: Path) -> ssl.SSLContext:
    """A leaf certificate for 127.0.0.1 signed by its own key, valid today."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "self-signed.pem", folder / "self-signed.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


BAD: dict[str, Certificate] = {
    "self-signed": self_signed,
    "unknown authority": unknown_authority,
    "expired": expired,
    "wrong host": wrong_host,
}


@pytest.mark.parametrize("certificate", BAD.values(), ids=BAD.keys())
async def test_bad_certificates_fail_every_attempt_without_fallback(
    make_hooks: HooksFactory, ca: trustme.CA, ca_file: str, tmp_path: Path, certificate: Certificate
) -> None:
    hooks = await make_hooks(
        loopback_settings(ca_file=ca_file, retry_schedule=(0,) + (0.05,) * (ATTEMPTS - 1))
    )
    with TLSServer(certificate(ca, tmp_path)) as server:
        await hooks.add("a.b", server.url)
        message = await hooks.trigger("a.b", {})
        found = await attempts(hooks, message.id, ATTEMPTS)
        await hooks.wait_until_idle()
        settled = await delivery(hooks, message.id)

    print(f"\n{certificate.__name__}: {[a.error_detail for a in found]}")
    assert [a.error for a in found] == [AttemptError.TLS] * ATTEMPTS
    assert settled.status is DeliveryStatus.FAILED
    # Every attempt was a TLS handshake that the client refused to complete: no request ever
    # crossed an unverified connection, and none was sent in plaintext.
    assert server.requests == []
    assert server.plaintext == 0
    assert server.handshakes_failed == ATTEMPTS


async def test_a_certificate_from_the_configured_authority_is_accepted(
    make_hooks: HooksFactory, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    # Shows the failures above come from the certificates, not from a broken TLS set-up.
    hooks = await make_hooks(loopback_settings(ca_file=ca_file))
    with TLSServer(valid(ca, tmp_path)) as server:
        await hooks.add("a.b", server.url)
        message = await hooks.trigger("a.b", {"n": 1})
        [attempt] = await attempts(hooks, message.id, 1)

    assert attempt.status_code == 200
    assert [r.headers["webhook-id"] for r in server.requests] == [message.id]


async def test_the_system_authorities_do_not_know_a_private_one(
    make_hooks: HooksFactory, ca: trustme.CA, tmp_path: Path
) -> None:
    hooks = await make_hooks(loopback_settings(retry_schedule=(0,)))
    with TLSServer(valid(ca, tmp_path)) as server:
        await hooks.add("a.b", server.url)
        message = await hooks.trigger("a.b", {})
        [attempt] = await attempts(hooks, message.id, 1)

    assert attempt.error is AttemptError.TLS
    assert server.requests == []
