"""Broker security settings: one helper builds every Kafka client's options, and contradicting
settings are refused before anything connects."""
from __future__ import annotations

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.kafka.security import parse_security

from services.infrastructure.kafka_security import KafkaSecurityError, broker_security, kafka_client_options
from services.kernel.settings import Settings

KAFKA = "kafka-1:9093,kafka-2:9093"


def _settings(**kw) -> Settings:
    return Settings(kafka_bootstrap=KAFKA, **kw)


def _self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_plaintext_is_the_default_and_adds_nothing():
    assert kafka_client_options(Settings()) == {"bootstrap_servers": "127.0.0.1:19092",
                                                "security_protocol": "PLAINTEXT"}
    assert broker_security(Settings()) is None


def test_sasl_scram_reaches_admin_clients_and_the_broker_alike():
    s = _settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="kimhub-gate",
                  kafka_sasl_password="s3cret")
    options = kafka_client_options(s)
    assert options == {"bootstrap_servers": KAFKA, "security_protocol": "SASL_PLAINTEXT",
                       "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "kimhub-gate",
                       "sasl_plain_password": "s3cret"}
    # What FastStream hands its producer and consumers is the same.
    parsed = parse_security(broker_security(s))
    assert {k: parsed[k] for k in ("security_protocol", "sasl_mechanism", "sasl_plain_username",
                                   "sasl_plain_password")} == {k: v for k, v in options.items() if k != "bootstrap_servers"}
    assert "s3cret" not in repr(s)  # a SecretStr: never in a log line of the settings


def test_sasl_ssl_verifies_the_broker_against_the_given_ca(tmp_path):
    ca, _ = _self_signed(tmp_path, "kimhub-test-ca")
    client_cert, client_key = _self_signed(tmp_path, "kimhub-gate")
    s = _settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="kimhub-gate", kafka_sasl_password="pw",
                  kafka_sasl_mechanism="SCRAM-SHA-256", kafka_ssl_cafile=ca, kafka_ssl_certfile=client_cert,
                  kafka_ssl_keyfile=client_key)
    options = kafka_client_options(s)
    context = options["ssl_context"]
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "kimhub-test-ca"),),)]
    parsed = parse_security(broker_security(s))
    assert parsed["security_protocol"] == "SASL_SSL" and parsed["ssl_context"] is not None


def test_ssl_alone_is_tls_without_sasl(tmp_path):
    ca, _ = _self_signed(tmp_path, "ca")
    s = _settings(kafka_security_protocol="SSL", kafka_ssl_cafile=ca)
    assert "sasl_mechanism" not in kafka_client_options(s)
    assert parse_security(broker_security(s))["security_protocol"] == "SSL"


@pytest.mark.parametrize("settings, names", [
    (dict(kafka_security_protocol="SASL_SSL"), "KIMHUB_KAFKA_SASL_USERNAME"),
    (dict(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u"), "KIMHUB_KAFKA_SASL_PASSWORD"),
    (dict(kafka_sasl_username="u", kafka_sasl_password="p"), "PLAINTEXT"),
    (dict(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u", kafka_sasl_password="p",
          kafka_ssl_cafile="/etc/ssl/ca.pem"), "SASL_PLAINTEXT"),
    (dict(kafka_security_protocol="SSL", kafka_ssl_certfile="/c.pem"), "KIMHUB_KAFKA_SSL_KEYFILE"),
    (dict(kafka_security_protocol="SSL", kafka_ssl_cafile="/no/such/ca.pem"), "TLS-Dateien"),
])
def test_contradicting_settings_are_refused_naming_the_variable(settings, names):
    with pytest.raises(KafkaSecurityError, match=names):
        kafka_client_options(_settings(**settings))


def test_the_embedded_broker_has_no_authentication():
    with pytest.raises(KafkaSecurityError, match="KIMHUB_KAFKA_BOOTSTRAP"):
        broker_security(Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u",
                                 kafka_sasl_password="p"))
