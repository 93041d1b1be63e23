"""The AsyncAPI 3 document of every channel the hub publishes and consumes, generated from the
contract registry (``contracts/registry.py``) and the topic names (``infrastructure/topics.py``);
the messages' payloads are the committed JSON Schemas (``contracts/schemas/``).

    python -m services.asyncapi            # (re)write contracts/asyncapi.json
    python -m services.asyncapi --check    # exit 1 when the committed document differs

Which contract travels on which topic, and who consumes it, is declared here once (``CHANNELS``);
``tests/contract/test_asyncapi.py`` checks it against the registry and the broker ACLs.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from contracts.audit import CheckpointV1
from contracts.consent import ConsentRevokedV1, ConsentVersionV1
from contracts.envelope import Envelope
from contracts.registry import CONTRACTS, SCHEMA_URN, by_model
from contracts.revocation import RevocationConfirmationV1, RevocationNoticeV1
from contracts.transfer import DeliveryRejectedV1, OfficeDeliveryV2, ReceiptV1, RefusalV1, TransferRequestedV2
from services.infrastructure import topics

DOCUMENT = Path(__file__).resolve().parents[1] / "contracts" / "asyncapi.json"
SCHEMAS = "schemas/"  # the payloads' files, relative to the document
BINDING = "0.5.0"  # AsyncAPI Kafka bindings version


@dataclass(frozen=True)
class Channel:
    key: str
    address: str
    description: str
    messages: tuple[type[BaseModel], ...]
    consumer: str | None = None  # the hub's consumer group reading it
    dead_letters: bool = False  # a consumer's ``<topic>.dlq`` beside it
    compacted: bool = False


OFFICE_INBOX = topics.office_inbox("{office}")
CHANNELS: tuple[Channel, ...] = (
    Channel("consent", topics.CONSENT, "Consent versions and revocations (compacted, keyed by consent id: the "
            "latest event of each consent stays, a full snapshot or its revocation). When the person is erased, "
            "each of their consents ends with a tombstone (the consent id as key, a null value, no CloudEvents "
            "headers), and compaction removes the consent's events (segment.ms and max.compaction.lag.ms bound "
            "when).",
            (ConsentVersionV1, ConsentRevokedV1), compacted=True),
    Channel("transferRequested", topics.TRANSFER_REQUESTED,
            "Transfers accepted at request time, for the gate's check at delivery time.",
            (TransferRequestedV2,), consumer="kimhub-gate", dead_letters=True),
    Channel("officeInbox", OFFICE_INBOX, "Deliveries released to one office (its broker ACL confines the office "
            "to its own inbox), and notices of revocations or narrowings of the consents they were delivered under.",
            (OfficeDeliveryV2, RevocationNoticeV1), consumer="kimhub-delivery", dead_letters=True),
    Channel("feedback", topics.FEEDBACK, "The way back to the sender: refusals and withholdings, receipts, "
            "offices' confirmations of revocation notices.",
            (RefusalV1, ReceiptV1, DeliveryRejectedV1, RevocationConfirmationV1), consumer="kimhub-gate", dead_letters=True),
    Channel("audit", topics.AUDIT, "Signed checkpoints of the transfer log, for witnesses.", (CheckpointV1,)),
)


def document() -> dict:
    channels, operations = {}, {}
    for ch in CHANNELS:
        channels[ch.key] = _channel(ch.address, ch.description, ch.messages, ch.compacted)
        operations[f"send{_title(ch.key)}"] = _operation("send", ch.key, ch.messages)
        if ch.consumer:
            operations[f"receive{_title(ch.key)}"] = _operation("receive", ch.key, ch.messages, ch.consumer)
        if ch.dead_letters:
            dlq = f"{ch.key}DeadLetters"
            channels[dlq] = _channel(topics.dead_letter(ch.address), (
                f"What the {ch.consumer} consumer could not process from {ch.address}, unchanged, with "
                "the headers kimhub_dlq_reason and kimhub_dlq_origin (topic/partition/offset)."), ch.messages)
            operations[f"send{_title(dlq)}"] = _operation("send", dlq, ch.messages)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "kimhub", "version": "1.0.0", "description": (
            "Consent-gated messaging hub between public agencies (KIM NRW): the Kafka topics it publishes "
            "and consumes. Every record is a CloudEvent 1.0 in Kafka binary mode (ce_* headers), keyed by "
            "the person pseudonym (kim.consent.v1: by consent id, for compaction; there an erased person's "
            "consents end with a tombstone each, a null value that is no CloudEvent); the W3C traceparent header "
            "carries the trace context.")},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": {_message_key(m): _message(m) for m in _all_messages()},
                       "schemas": {"CloudEventHeaders": _headers()}},
    }


def _channel(address: str, description: str, messages: tuple[type[BaseModel], ...], compacted: bool = False) -> dict:
    channel = {"address": address, "description": description,
               "messages": {_message_key(m): {"$ref": f"#/components/messages/{_message_key(m)}"} for m in messages}}
    if "{office}" in address:
        channel["parameters"] = {"office": {"description": "Office id from the agency directory, e.g. troisdorf-abh"}}
    if compacted:
        configuration = {key: int(value) for key, value in topics.COMPACTION.items() if key != "cleanup.policy"}
        channel["bindings"] = {"kafka": {"topicConfiguration": {"cleanup.policy": ["compact"], **configuration},
                                         "bindingVersion": BINDING}}
    return channel


def _operation(action: str, channel: str, messages: tuple[type[BaseModel], ...], group: str | None = None) -> dict:
    operation = {"action": action, "channel": {"$ref": f"#/channels/{channel}"},
                 "messages": [{"$ref": f"#/channels/{channel}/messages/{_message_key(m)}"} for m in messages]}
    if group:
        operation["bindings"] = {"kafka": {"groupId": {"type": "string", "const": group}, "bindingVersion": BINDING}}
    return operation


def _message(model: type[BaseModel]) -> dict:
    info = by_model(model)
    return {
        "name": info.message_type, "title": (model.__doc__ or info.message_type).strip().splitlines()[0],
        "contentType": "application/json",
        "headers": {"allOf": [{"$ref": "#/components/schemas/CloudEventHeaders"}, {"type": "object", "properties": {
            "ce_type": {"const": info.ce_type}, "ce_dataschema": {"const": SCHEMA_URN + info.schema_name}}}]},
        "payload": {"schemaFormat": "application/schema+json;version=draft-2020-12",
                    "schema": {"$ref": SCHEMAS + info.schema_name}},
        "bindings": {"kafka": {"key": {"type": "string", "description": _key(model)}, "bindingVersion": BINDING}},
    }


def _key(model: type[BaseModel]) -> str:
    if any(ch.compacted and model in ch.messages for ch in CHANNELS):
        return "The consent id (compaction keeps each consent's latest event)"
    return "The person pseudonym (ce_subject)"


def _headers() -> dict:
    """The CloudEvents attributes as record headers (``contracts/envelope.py``), and the trace context."""
    fields = Envelope.model_fields
    names = {name: ("content-type" if name == "datacontenttype" else f"ce_{name}") for name in fields}
    properties = {"ce_specversion": {"type": "string", "const": "1.0"},
                  **{header: {"type": "string", "description": fields[name].description or name}
                     for name, header in names.items()},
                  "traceparent": {"type": "string", "description": "W3C trace context (when tracing is on)"},
                  "tracestate": {"type": "string"}}
    required = ["ce_specversion", *(names[n] for n, f in fields.items() if f.is_required())]
    return {"type": "object", "properties": properties, "required": required}


def _all_messages() -> list[type[BaseModel]]:
    return list(dict.fromkeys(m for ch in CHANNELS for m in ch.messages))


def _message_key(model: type[BaseModel]) -> str:
    return by_model(model).message_type


def _title(key: str) -> str:
    return key[0].upper() + key[1:]


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.asyncapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the document differs")
    parser.add_argument("--out", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    text = render()
    current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.out.name} differs from the contracts: run `python -m services.asyncapi` and commit it")
            return 1
        return 0
    if current != text:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
