"""Apache Kafka with authentication and authorisation, as the production set-up has it: a
SASL_PLAINTEXT listener (SCRAM-SHA-512), users created when the storage is formatted
(``kafka-storage format --add-scram``), the KRaft ``StandardAuthorizer``, ``admin`` as the only super
user, and nothing allowed without an ACL. The controller listener authenticates the broker with
SASL/PLAIN (SCRAM credentials live in the metadata log, which the controller is still loading when
the broker first registers), so no anonymous connection is a super user.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tests.support.apache_kafka import ApacheKafka

ADMIN = "admin"


def sasl_properties(port: int, controller_port: int, admin_password: str) -> dict[str, str]:
    scram_login = "org.apache.kafka.common.security.scram.ScramLoginModule required"
    plain_login = "org.apache.kafka.common.security.plain.PlainLoginModule required"
    return {
        "listeners": f"SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{port}",
        "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config":
            f'{scram_login} username="{ADMIN}" password="{admin_password}";',
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config":
            f'{plain_login} username="{ADMIN}" password="{admin_password}" user_{ADMIN}="{admin_password}";',
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN}",
        "allow.everyone.if.no.acl.found": "false",
    }


@dataclass
class SaslApacheKafka(ApacheKafka):
    """``users``: SCRAM-SHA-512 name -> password, created at format time; must include ``admin``."""

    users: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if ADMIN not in self.users:
            raise ValueError("SaslApacheKafka needs an 'admin' user (the super user)")
        self.extra_properties = {**sasl_properties(self.port, self.controller_port, self.users[ADMIN]),
                                 **(self.extra_properties or {})}

    def format_arguments(self) -> list[str]:
        return [arg for name, password in self.users.items()
                for arg in ("--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]")]
