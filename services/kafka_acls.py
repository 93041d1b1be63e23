"""``kimhub kafka acls [--apply]``: the broker ACLs, derived from the agency directory and from what
each hub component publishes and consumes.

Principals (SASL/SCRAM user names, ``KIMHUB_KAFKA_SASL_USERNAME`` of the process):

- ``kimhub-<component>`` for gateway, gate, delivery, relay and audit; a consuming component reads
  in consumer group ``kimhub-<component>`` (``services/infrastructure/messaging.py: subscribe``).
- ``<office-id>`` for an office that consumes its own inbox: it may read ``agency.<office-id>.inbox.v1``
  in consumer group ``<office-id>``, and nothing else.

Every ACL allows one operation on one topic or group named literally, from any host. Nothing else
is allowed: the cluster runs with ``allow.everyone.if.no.acl.found=false``.

``--apply`` creates the hub's topics (``KIMHUB_TOPIC_PARTITIONS`` / ``_REPLICATION``) and the ACLs
through the Kafka admin protocol, as the principal of the environment (an administrator).
aiokafka has no ACL call, but ships the protocol's CreateAcls request, which is sent here as is.
ACLs that are no longer in the plan (an office left the directory) are not removed: see
``deploy/README.md``.
"""
from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.admin import CreateAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request

from services.directory.model import Directory, load_directory
from services.infrastructure import topics
from services.infrastructure.kafka_security import kafka_client_options
from services.infrastructure.messaging import ensure_topics
from services.kernel.settings import Settings

COMPONENT_PREFIX = "kimhub-"
# Kafka protocol codes (org.apache.kafka.common.acl / resource).
_RESOURCE = {"TOPIC": 2, "GROUP": 3}
_OPERATION = {"READ": 3, "WRITE": 4}
_LITERAL, _ALLOW, _ANY = 3, 3, 1
_NAMES = {code: name for name, code in _OPERATION.items()}
_NAMES_RESOURCE = {code: name for name, code in _RESOURCE.items()}


@dataclass(frozen=True, order=True)
class Acl:
    principal: str  # "User:kimhub-gate"
    operation: str  # READ | WRITE
    resource: str  # TOPIC | GROUP
    name: str

    def __str__(self) -> str:
        return f"ALLOW {self.principal:<28} {self.operation:<5} {self.resource:<5} {self.name}"


@dataclass(frozen=True)
class Access:
    """What one principal does on the broker."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    group: str | None = None

    def acls(self, principal: str) -> list[Acl]:
        user = f"User:{principal}"
        return ([Acl(user, "READ", "TOPIC", t) for t in self.reads]
                + [Acl(user, "WRITE", "TOPIC", t) for t in self.writes]
                + ([Acl(user, "READ", "GROUP", self.group)] if self.group else []))


def component_access(office_ids: list[str]) -> dict[str, Access]:
    """Per hub component, the topics it consumes and writes, as the code does it."""
    inboxes = tuple(topics.office_inbox(o) for o in office_ids)
    dlq = topics.dead_letter
    requested, feedback = topics.TRANSFER_REQUESTED, topics.FEEDBACK
    return {
        # Publishes what its units of work commit, right after the commit (infrastructure/dispatch.py):
        # consent events, transfer requests, refusals, receipts and revocation confirmations on the
        # feedback topic, and revocation notices to the offices' inboxes (gate/notices.py).
        "gateway": Access(writes=(topics.CONSENT, requested, feedback, *inboxes)),
        # Consumes requests and receipts; publishes deliveries to the offices' inboxes and
        # withholdings as feedback (gate/worker.py), and what it cannot process to its dead letters.
        "gate": Access(reads=(requested, feedback), group="kimhub-gate",
                       writes=(*inboxes, feedback, dlq(requested), dlq(feedback))),
        # Consumes the inboxes into the office inboxes (delivery/service.py); dead letters.
        "delivery": Access(reads=inboxes, group="kimhub-delivery", writes=tuple(dlq(t) for t in inboxes)),
        # The outbox relay publishes every outbox row: any business topic (consents, receipts,
        # checkpoints, replayed dead letters go back to their original topic).
        "relay": Access(writes=(topics.CONSENT, requested, feedback, topics.AUDIT, *inboxes)),
        # Its signed checkpoints go out through the outbox; the topic is the audit component's own.
        "audit": Access(writes=(topics.AUDIT,)),
    }


def office_access(office_id: str) -> Access:
    return Access(reads=(topics.office_inbox(office_id),), group=office_id)


def plan(directory: Directory) -> list[Acl]:
    """Every ACL the hub's principals need, sorted; one principal per component and per office."""
    offices = sorted(directory.offices)
    clash = [o for o in offices if o.startswith(COMPONENT_PREFIX)]
    if clash:
        raise ValueError(f"Dienststellen-ID {clash[0]} kollidiert mit den Principals der Hub-Komponenten "
                         f"({COMPONENT_PREFIX}*)")
    acls = [acl for component, access in component_access(offices).items()
            for acl in access.acls(COMPONENT_PREFIX + component)]
    acls += [acl for office in offices for acl in office_access(office).acls(office)]
    return sorted(set(acls))


class _CreateAcls(Request[CreateAclsRequest_v1]):
    """CreateAcls v1 with many creations in one request (aiokafka's builder sends one)."""

    API_KEY = 30

    def __init__(self, acls: list[Acl]):
        self.creations = [(_RESOURCE[a.resource], a.name, _LITERAL, a.principal, "*", _OPERATION[a.operation], _ALLOW)
                          for a in acls]

    def build(self, request_struct_class):
        return request_struct_class(self.creations)


async def apply(settings: Settings, acls: list[Acl], topic_names: list[str], timeout: float = 30) -> None:
    """Create the topics, then the ACLs (adding one that exists changes nothing); return once the
    broker enforces them (the controller hands them on to the brokers a moment later)."""
    await ensure_topics(settings, topic_names)
    client = AIOKafkaClient(client_id=f"{settings.kafka_client_id}-acls", **kafka_client_options(settings))
    await client.bootstrap()
    try:
        node = client.get_random_node()
        response = await client.send(node, _CreateAcls(acls))
        failed = [(acl, code, msg) for acl, (code, msg) in zip(acls, response.creation_responses) if code]
        if failed:
            acl, code, message = failed[0]
            raise for_code(code)(f"{len(failed)} ACL(s) abgelehnt, zuerst {acl}: {message}")
        await _in_force(client, node, set(acls), timeout)
    finally:
        await client.close()


async def _in_force(client: AIOKafkaClient, node: int, wanted: set[Acl], timeout: float) -> None:
    """Wait until the broker lists every wanted ACL (DescribeAcls answers from its authorizer)."""
    describe_all = DescribeAclsRequest(_ANY, None, _ANY, None, None, _ANY, _ANY)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.send(node, describe_all)
        if response.error_code:
            raise for_code(response.error_code)(response.error_message)
        missing = wanted - {Acl(principal, _NAMES[operation], _NAMES_RESOURCE[rtype], name)
                            for rtype, name, _pattern, entries in response.resources
                            for principal, _host, operation, _permission in entries
                            if operation in _NAMES and rtype in _NAMES_RESOURCE}
        if not missing:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{len(missing)} ACL(s) nach {timeout:.0f} s noch nicht wirksam, z. B. {min(missing)}")
        await asyncio.sleep(0.2)


def add_parser(sub) -> None:
    kafka = sub.add_parser("kafka", help="Kafka administration")
    cmds = kafka.add_subparsers(dest="kafka_command", required=True)
    acls = cmds.add_parser("acls", help="print the broker ACLs the hub needs (from the agency directory)")
    acls.add_argument("--apply", action="store_true",
                      help="create the hub's topics and these ACLs, as the principal in KIMHUB_KAFKA_SASL_*")


def run(args, settings: Settings) -> int:
    directory = load_directory(settings.directory_file)
    try:
        acls = plan(directory)
    except ValueError as exc:
        print(f"kimhub: {exc}", file=sys.stderr)
        return 2
    for acl in acls:
        print(acl)
    if args.apply:
        try:
            asyncio.run(apply(settings, acls, topics.all_topics(sorted(directory.offices))))
        except (KafkaError, TimeoutError) as exc:
            print(f"kimhub: ACLs nicht angewendet ({settings.bootstrap}): {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(f"{len(acls)} ACLs angewendet auf {settings.bootstrap}")
    return 0
