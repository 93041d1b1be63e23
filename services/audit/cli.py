"""``kimhub audit …``: the DPO's offline tools.

  kimhub audit verify --log LOG.jsonl --checkpoint CP.txt --key VKEY [--key VKEY…] [--previous OLD.txt…]
                      [--nodes NODES.jsonl]
  kimhub audit export [--out FILE] [--nodes FILE]   (from the database in KIMHUB_DATABASE_URL)
  kimhub audit checkpoint [--out FILE]        latest signed checkpoint note
  kimhub audit key                            the hub's public key (vkey)
  kimhub audit cosign --skey-file F --key HUB --state S [--proof P.json] CP.txt
                                              add your signature to a checkpoint note, if it extends the
                                              one you cosigned last (kept in S; P: /audit/proofs/consistency)
  kimhub audit witness --hub URL --token-file T --key HUB --skey-file F --state S [--interval 30] [--once]
                                              the same as a process of its own, polling the hub
  kimhub audit keygen NAME                    a new key pair for cosigning (skey to stdout, vkey to stderr)
"""
from __future__ import annotations

import asyncio
import base64
import json
import sys
from pathlib import Path

from services.audit.note_keys import NoteSigner, NoteVerifier


def add_parser(sub) -> None:
    audit = sub.add_parser("audit", help="verify and export the transfer log (DPO)")
    cmds = audit.add_subparsers(dest="audit_command", required=True)
    v = cmds.add_parser("verify", help="verify an exported log against a signed checkpoint, offline")
    v.add_argument("--log", required=True, type=Path, help="export in JSON Lines")
    v.add_argument("--checkpoint", required=True, type=Path, help="signed checkpoint note")
    v.add_argument("--key", action="append", required=True, help="verifier key (vkey) or a file holding one")
    v.add_argument("--previous", action="append", type=Path, default=[], help="an older checkpoint seen before")
    v.add_argument("--require-all", action="store_true", help="every --key must have signed the checkpoint")
    v.add_argument("--nodes", type=Path, help="the stored subtree hashes (export --nodes): narrow a rewritten record")
    e = cmds.add_parser("export", help="export the log as JSON Lines")
    e.add_argument("--out", type=Path)
    e.add_argument("--nodes", type=Path, help="also write the stored subtree hashes to this file")
    c = cmds.add_parser("checkpoint", help="print the latest signed checkpoint")
    c.add_argument("--out", type=Path)
    cmds.add_parser("key", help="print the hub's verifier key")
    s = cmds.add_parser("cosign", help="cosign a checkpoint note with your own key")
    s.add_argument("--skey-file", required=True, type=Path)
    s.add_argument("--key", action="append", required=True, help="the hub's vkey: verified before cosigning")
    s.add_argument("--state", required=True, type=Path, help="the last checkpoint you cosigned (kept here)")
    s.add_argument("--proof", type=Path, help="consistency proof from that one (JSON of /audit/proofs/consistency)")
    s.add_argument("checkpoint", type=Path)
    w = cmds.add_parser("witness", help="run as a witness: poll the hub, cosign only consistent checkpoints")
    w.add_argument("--hub", required=True, help="the hub's base URL")
    w.add_argument("--token-file", required=True, type=Path, help="a bearer token allowed to read checkpoints")
    w.add_argument("--key", action="append", required=True, help="the hub's vkey")
    w.add_argument("--skey-file", required=True, type=Path, help="the witness's signing key")
    w.add_argument("--state", required=True, type=Path, help="the witness's state file")
    w.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
    w.add_argument("--once", action="store_true", help="one round, then exit")
    g = cmds.add_parser("keygen", help="create a signing key pair for cosigning")
    g.add_argument("name")


def _vkey(value: str) -> NoteVerifier:
    path = Path(value)
    return NoteVerifier.from_vkey(path.read_text().strip() if "+" not in value and path.exists() else value)


def run(args, settings) -> int:
    if args.audit_command == "verify":
        return _verify(args)
    if args.audit_command == "keygen":
        signer = NoteSigner.generate(args.name)
        print(signer.skey)
        print(signer.vkey, file=sys.stderr)
        return 0
    if args.audit_command == "cosign":
        return _cosign(args)
    if args.audit_command == "witness":
        return _witness(args)
    if args.audit_command == "key":
        from services.audit import keys

        print(keys.signer(settings).vkey)
        return 0
    return asyncio.run(_from_database(args, settings))


def _verify(args) -> int:
    from services.audit.verify import verify

    verifiers = [_vkey(k) for k in args.key]
    nodes = open(args.nodes, encoding="utf-8") if args.nodes else None
    try:
        with open(args.log, encoding="utf-8") as lines:
            report = verify(lines, args.checkpoint.read_text(encoding="utf-8"), verifiers,
                            [p.read_text(encoding="utf-8") for p in args.previous], args.require_all, nodes)
    finally:
        if nodes:
            nodes.close()
    if report.ok:
        cp = report.checkpoint
        print(f"OK: {report.records} records verified against the signed checkpoint "
              f"(origin {cp.origin}, size {cp.size}); consistent with {len(args.previous)} older checkpoint(s)")
        if report.withheld:
            print(f"   {report.withheld} of them withheld (another controller's): checked by their leaf hash only")
        return 0
    print(f"FAILED: {report.first}", file=sys.stderr)
    for problem in report.problems[1:20]:
        print(f"  also: {problem}", file=sys.stderr)
    return 1


def _cosign(args) -> int:
    from services.audit.witness import Refused, WitnessState, cosign

    proof = json.loads(args.proof.read_text(encoding="utf-8"))["proof"] if args.proof else []
    try:
        cosigned, state = cosign(args.checkpoint.read_text(encoding="utf-8"), [_vkey(k) for k in args.key],
                                 WitnessState.load(args.state), [base64.b64decode(h) for h in proof],
                                 NoteSigner.from_skey(args.skey_file.read_text().strip()))
    except Refused as exc:
        print(f"not cosigned: {exc}", file=sys.stderr)
        return 1
    state.save(args.state)
    sys.stdout.write(cosigned)
    return 0


def _witness(args) -> int:
    import httpx

    from services.audit.witness_process import Witness, run as run_witness

    token = args.token_file.read_text().strip()
    with httpx.Client(base_url=args.hub, headers={"Authorization": f"Bearer {token}"}, timeout=30) as hub:
        witness = Witness(hub, [_vkey(k) for k in args.key],
                          NoteSigner.from_skey(args.skey_file.read_text().strip()), args.state)
        return run_witness(witness, args.interval, args.once)


async def _from_database(args, settings) -> int:
    from services.audit.repository import AuditRepository
    from services.infrastructure.db import create_engine

    engine = create_engine(settings.effective_database_url, settings.db_pool_size)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    try:
        async with engine.connect() as conn:
            log = AuditRepository(conn)
            if args.audit_command == "export":
                async for line in log.export():
                    out.write(line)
                if args.nodes:
                    with open(args.nodes, "w", encoding="utf-8") as nodes:
                        async for line in log.export_nodes():
                            nodes.write(line)
            else:
                row = await log.latest_checkpoint()
                if row is None:
                    print("no checkpoint yet", file=sys.stderr)
                    return 1
                out.write(row.note)
    finally:
        if args.out:
            out.close()
        await engine.dispose()
    return 0
