"""All configuration, read once from ``KIMHUB_*`` environment variables.

The defaults give the embedded set-up: a SQLite file under ``data_dir`` and a local
Kafka-compatible broker process that the hub starts and stops itself.
"""
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "directory" / "data"
CHECKOUT_NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"  # `npm ci` at the repository root


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIMHUB_", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where the embedded set-up keeps its files")
    database_url: str = Field("", description="SQLAlchemy URL; empty means a SQLite file in data_dir")
    kafka_bootstrap: str = Field("", description="host:port[,host:port]; empty starts the embedded broker")
    kafka_idempotence: bool | None = Field(None, description="Idempotent producer; default on for external Kafka")
    kafka_client_id: str = "kimhub"
    kafka_session_timeout_ms: int | None = Field(
        None, ge=6000, description="Consumer session timeout; default 10 s, 6 s for the embedded broker")
    kafka_fetch_max_wait_ms: int | None = Field(
        None, ge=1, le=5000, description="Longest a fetch waits for data; default 500 (Kafka's), 20 for the embedded broker")
    consumer_batch: int = Field(200, ge=1, description="Records a consumer takes from the broker at once")
    consumer_poll_ms: int = Field(
        10, ge=1, le=1000, description="A consumer's wait for records in one poll (it returns as soon as one came)")
    consumer_concurrency: int = Field(8, ge=1, description="Records processed at once (different persons)")
    consumer_commit_interval_ms: int = Field(
        200, ge=0, le=60000, description="Longest a consumer waits before committing the offsets it is done with")
    consumer_max_attempts: int = Field(5, ge=1, description="Attempts before an unexpected error dead-letters")
    outbox_replay_seconds: int | None = Field(
        None, ge=0, description="After a broker lost its topics, re-publish what was sent this long ago; "
                                "default 24 h for the embedded broker, 0 (no watch) for Kafka")
    # Kafka's own default. Partitions are how many instances of a consumer can share a topic's work:
    # a deployment that runs several gate or delivery instances sets as many before the first start
    # (adding partitions later moves persons between partitions, so their order is not kept then).
    topic_partitions: int = Field(1, ge=1, description="Partitions of each topic the hub creates")
    topic_replication: int = Field(1, ge=1)
    embedded_broker_port: int = Field(19092, ge=1, le=65535)
    # Broker authentication (deploy/README.md, services/infrastructure/kafka_security.py): every Kafka client
    # of the process uses it; each component (and each office's own consumer) has its own principal.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = Field(
        "PLAINTEXT", description="SASL_SSL in production; SASL_* needs kafka_sasl_username and _password")
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = Field("", description="This process's principal, e.g. kimhub-gate")
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: Path | None = Field(None, description="CA certificates that signed the brokers' certificates")
    kafka_ssl_certfile: Path | None = Field(None, description="Client certificate (PEM) for mutual TLS")
    kafka_ssl_keyfile: Path | None = Field(None, description="The client certificate's private key (PEM)")
    kafka_ssl_key_password: SecretStr = SecretStr("")
    case_retention_days: int = Field(
        365, ge=1, description="A case archived longer than this is erased (the privacy notice: 12 months at most)")
    case_retention_interval_seconds: float = Field(
        3600.0, gt=0, description="How often the hub looks for cases due for erasure")
    health_port: int | None = Field(
        None, ge=1, le=65535, description="A process without the gateway serves /health/live and /health/ready here")
    allow_dev_auth: bool = Field(
        False, description="Accept auth_mode=dev (self-issued tokens) on PostgreSQL: for test set-ups only")

    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(256 * 1024, ge=1024, description="Largest accepted request body")
    max_document_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest uploaded document")
    node_modules: Path = Field(CHECKOUT_NODE_MODULES, description="The browser assets `npm ci` installed "
                               "(package.json): Swagger UI and ReDoc, served by the hub itself")

    directory_file: Path = Field(PACKAGE_DATA / "directory.demo.yaml")
    migrate_on_start: bool = True
    db_pool_size: int = Field(20, ge=2, description="Database connections per process (PostgreSQL)")
    relay_poll_seconds: float = Field(0.2, gt=0)
    outbox_direct: bool = Field(True, description="The committing process publishes its outbox rows itself")
    outbox_lease_seconds: float = Field(
        5.0, gt=0, le=300, description="How long the relay leaves such a row to its process before taking it")
    group_commit_linger_ms: float = Field(
        4.0, ge=0, le=100, description="How long a request waits for others to share its transaction (0: not at all)")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object a line (for a log collector); text: for people")
    otel_endpoint: str = Field(
        "", description="OTLP/HTTP collector for traces, e.g. http://otel-collector:4318; empty: the standard "
                        "OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, and without those no tracing")
    otel_service_name: str = Field("", description="service.name of the traces; empty: OTEL_SERVICE_NAME or kimhub-<components>")

    log_origin: str = Field("kimhub.invalid/transfer-log", pattern=r"^[^\s+]+$",
                            description="Checkpoint origin line: unique per deployment")
    keys_dir: Path | None = Field(
        None, description="Key files: office rings <office>.jwks.json, master.key, delivery-signing-key.pem; "
                          "default data_dir/keys")
    keys_generate: bool | None = Field(
        None, description="Generate missing dev keys; default only on the embedded SQLite set-up")
    master_key: SecretStr = Field(SecretStr(""), description="hex or base64, 32 bytes: wraps the person keys")
    delivery_signing_key: SecretStr = Field(
        SecretStr(""), description="Ed25519 private key (PKCS#8 PEM) the hub signs deliveries with; "
                                   "default keys_dir/delivery-signing-key.pem")
    office_key_overlap_days: int = Field(30, ge=1, description="How long a rotated office key still opens")
    log_pseudonym_key: SecretStr = Field(SecretStr(""), description="hex; HMAC key for person pseudonyms in the log")
    log_signing_key: SecretStr = Field(SecretStr(""), description="signed-note private key (PRIVATE+KEY+...)")
    log_cosigner_keys: str = Field("", description="comma-separated signed-note public keys that may cosign")
    checkpoint_interval_seconds: float = Field(10.0, gt=0, description="Checkpoint at least this often while records arrive")

    # E-mail notifications (services/notifications): off unless smtp_url and mail_from are set.
    smtp_url: SecretStr = Field(
        SecretStr(""), description="smtp://[user:password@]host[:port] (STARTTLS with ?starttls=true), "
                                   "smtps://… for implicit TLS; empty: no e-mail notifications")
    mail_from: str = Field("", description="Sender address of the notifications, e.g. kimhub@kreis.example")
    public_url: str = Field("", description="The hub's address as users reach it: the base of the links in the mails")
    mail_interval_seconds: float = Field(
        30.0, gt=0, description="How often pending notifications are sent; new items of an office in between "
                                "become one mail")

    auth_mode: Literal["dev", "oidc"] = "dev"
    auth_issuer: str = "https://kimhub.invalid/dev-issuer"
    auth_audience: str = "kimhub"
    auth_jwks_url: str = Field("", description="OIDC issuer's JWKS URL (auth_mode=oidc)")
    auth_office_claim: str = "office"
    auth_roles_claim: str = "roles"
    dev_users_file: Path = Field(PACKAGE_DATA / "users.demo.yaml")
    token_ttl_seconds: int = Field(8 * 3600, ge=60)
    oidc_client_id: str = Field("", description="The web interface's client at the OIDC issuer (code flow, PKCE)")
    oidc_client_secret: SecretStr = Field(SecretStr(""), description="Empty for a public client (PKCE only)")
    oidc_discovery_url: str = Field(
        "", description="OIDC discovery document; empty: <auth_issuer>/.well-known/openid-configuration")
    oidc_scopes: str = "openid"

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        """Accept plain ``postgresql://`` / ``sqlite://`` URLs and pick the async driver."""
        for plain, async_ in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://"),
                              ("sqlite://", "sqlite+aiosqlite://")):
            if url.startswith(plain):
                return async_ + url[len(plain):]
        return url

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'kimhub.db').resolve()}"

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_url.get_secret_value() and self.mail_from)

    @property
    def embedded_broker(self) -> bool:
        return not self.kafka_bootstrap

    @property
    def bootstrap(self) -> str:
        return self.kafka_bootstrap or f"127.0.0.1:{self.embedded_broker_port}"

    @property
    def producer_idempotence(self) -> bool:
        # The embedded broker (tansu) does not implement InitProducerId.
        return (not self.embedded_broker) if self.kafka_idempotence is None else self.kafka_idempotence

    @property
    def replay_window_seconds(self) -> int:
        # Apache Kafka keeps its log on disk: a restarted broker has every topic and record (fault test
        # test_apache_kafka_killed_and_restarted_mid_stream). Only the embedded broker forgets, so only
        # there are published outbox rows kept and the topics watched.
        if self.outbox_replay_seconds is not None:
            return self.outbox_replay_seconds
        return 24 * 3600 if self.embedded_broker else 0

    @property
    def session_timeout_ms(self) -> int:
        # tansu holds a JoinGroup for half the session timeout: keep it at Kafka's minimum there.
        if self.kafka_session_timeout_ms is not None:
            return self.kafka_session_timeout_ms
        return 6000 if self.embedded_broker else 10000

    @property
    def fetch_max_wait_ms(self) -> int:
        # Kafka answers a fetch as soon as data arrives (fetch.min.bytes = 1); tansu holds it for
        # its full wait, which would add that wait to every hop of a transfer.
        if self.kafka_fetch_max_wait_ms is not None:
            return self.kafka_fetch_max_wait_ms
        return 20 if self.embedded_broker else 500

    @property
    def effective_keys_dir(self) -> Path:
        return self.keys_dir or self.data_dir / "keys"

    @property
    def generate_keys(self) -> bool:
        if self.keys_generate is not None:
            return self.keys_generate
        return self.effective_database_url.startswith("sqlite")

    @property
    def dev_signing_key_file(self) -> Path:
        return self.data_dir / "dev-signing-key.json"
