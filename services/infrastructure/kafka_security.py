"""How every Kafka client of the hub authenticates: SASL/SCRAM, TLS, or both.

One place builds the connection options from the settings, so the FastStream broker (producer and
consumers) and every admin client connect the same way. Each hub component runs as its own
principal (``KIMHUB_KAFKA_SASL_USERNAME``), which the broker's ACLs confine
(``kimhub kafka acls``, ``services/kafka_acls.py``).
"""
from __future__ import annotations

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from services.kernel.settings import Settings

_SCRAM = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256}


class KafkaSecurityError(ValueError):
    """The broker connection settings do not fit together; the process refuses to start."""


def check(settings: Settings) -> None:
    """Raise ``KafkaSecurityError`` (German, naming the variables) when the settings contradict."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        if settings.kafka_sasl_username or settings.kafka_ssl_cafile or settings.kafka_ssl_certfile:
            raise KafkaSecurityError(
                "KIMHUB_KAFKA_SASL_USERNAME bzw. KIMHUB_KAFKA_SSL_* sind gesetzt, aber "
                "KIMHUB_KAFKA_SECURITY_PROTOCOL ist PLAINTEXT: Protokoll SASL_SSL, SASL_PLAINTEXT oder SSL wählen.")
        return
    if settings.embedded_broker:
        raise KafkaSecurityError(
            f"KIMHUB_KAFKA_SECURITY_PROTOCOL={protocol} braucht einen externen Kafka-Cluster "
            "(KIMHUB_KAFKA_BOOTSTRAP); der eingebettete Broker kennt keine Anmeldung.")
    if protocol.startswith("SASL") and not (settings.kafka_sasl_username and settings.kafka_sasl_password.get_secret_value()):
        raise KafkaSecurityError(
            f"KIMHUB_KAFKA_SECURITY_PROTOCOL={protocol} braucht KIMHUB_KAFKA_SASL_USERNAME und KIMHUB_KAFKA_SASL_PASSWORD.")
    if bool(settings.kafka_ssl_certfile) != bool(settings.kafka_ssl_keyfile):
        raise KafkaSecurityError("KIMHUB_KAFKA_SSL_CERTFILE und KIMHUB_KAFKA_SSL_KEYFILE nur zusammen angeben.")
    if not protocol.endswith("SSL") and (settings.kafka_ssl_cafile or settings.kafka_ssl_certfile):
        raise KafkaSecurityError(f"KIMHUB_KAFKA_SSL_* gelten nur mit SSL oder SASL_SSL, nicht mit {protocol}.")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for SSL / SASL_SSL: the system's CAs unless ``kafka_ssl_cafile`` names others;
    the host name is always checked."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    key_password = settings.kafka_ssl_key_password.get_secret_value() or None
    try:
        return create_ssl_context(cafile=settings.kafka_ssl_cafile, certfile=settings.kafka_ssl_certfile,
                                  keyfile=settings.kafka_ssl_keyfile, password=key_password)
    except (OSError, ssl.SSLError) as exc:
        raise KafkaSecurityError(f"TLS-Dateien für Kafka nicht lesbar: {type(exc).__name__}: {exc}") from exc


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (``AIOKafkaAdminClient``, ``AIOKafkaClient``,
    producers, consumers): bootstrap servers plus how to authenticate."""
    check(settings)
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"bootstrap_servers": settings.bootstrap, "security_protocol": protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if protocol.startswith("SASL"):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password.get_secret_value())
    return options


def broker_security(settings: Settings) -> BaseSecurity | None:
    """The same for FastStream's ``KafkaBroker(security=...)``."""
    check(settings)
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    scram = _SCRAM[settings.kafka_sasl_mechanism]
    return scram(settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value(),
                 ssl_context=context, use_ssl=protocol == "SASL_SSL")
