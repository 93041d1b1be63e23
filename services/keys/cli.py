"""``kimhub keys``: the keys an operator and an office manage.

  kimhub keys master-key                  print a new master key (64 hex) for KIMHUB_MASTER_KEY
  kimhub keys signing-key                 print a new delivery signing key (Ed25519 PEM) for KIMHUB_DELIVERY_SIGNING_KEY
  kimhub keys office generate OFFICE      an office's first key pair, in KIMHUB_KEYS_DIR (file 0600)
  kimhub keys office rotate OFFICE        a new key pair; the old ones still open for KIMHUB_OFFICE_KEY_OVERLAP_DAYS
  kimhub keys office prune OFFICE         drop keys past their overlap
  kimhub keys office jwks OFFICE          print the public JWK set (what the directory publishes)
"""
from __future__ import annotations

import argparse
import json
import secrets
from datetime import timedelta

from services.crypto.errors import NoKeys
from services.crypto.key_store import OfficeKeyStore
from services.crypto.office_keys import OfficeKeyRing
from services.crypto.signature import DeliverySigner
from services.infrastructure.db import utcnow
from services.kernel.settings import Settings


def add_parser(sub) -> None:
    keys = sub.add_parser("keys", help="master, signing and office keys", description=__doc__,
                          formatter_class=argparse.RawTextHelpFormatter)
    what = keys.add_subparsers(dest="keys_command", required=True)
    what.add_parser("master-key", help="print a new master key")
    what.add_parser("signing-key", help="print a new delivery signing key")
    office = what.add_parser("office", help="an office's key ring in KIMHUB_KEYS_DIR")
    office.add_argument("action", choices=("generate", "rotate", "prune", "jwks"))
    office.add_argument("office")


def run(args, settings: Settings) -> int:
    if args.keys_command == "master-key":
        print(secrets.token_hex(32))
    elif args.keys_command == "signing-key":
        print(DeliverySigner.generate().to_pem().decode(), end="")
    else:
        return _office(args.action, args.office, OfficeKeyStore(settings.effective_keys_dir), settings)
    return 0


def _office(action: str, office: str, store: OfficeKeyStore, settings: Settings) -> int:
    now = utcnow()
    try:
        if action == "generate":
            store.ensure(office, now)
        elif action == "rotate":
            store.save(store.ring(office).rotate(now, timedelta(days=settings.office_key_overlap_days)))
        elif action == "prune":
            store.save(store.ring(office).prune(now))
        ring: OfficeKeyRing = store.ring(office)
    except NoKeys:
        print(f"kimhub: no keys for {office} in {store.root} (kimhub keys office generate {office})")
        return 2
    print(json.dumps(ring.public_jwks(now), indent=2))
    return 0
