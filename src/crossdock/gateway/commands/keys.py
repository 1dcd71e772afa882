"""``crossdock keys create PARTNER [--label L] [--signed]`` (prints the key once),
``crossdock keys revoke KEY_ID``, ``crossdock keys list [PARTNER]``.

A running server sees a new key at once and a revocation within ``auth.key_cache_s``.
"""

from __future__ import annotations

import argparse
import sys

from crossdock.gateway.commands.store import cli_actor, fail, in_store, no_partner

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("keys", help="partner API keys: create (shown once), revoke, list")
    commands = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = commands.add_parser("create", help="issue a key for PARTNER (printed once)")
    create.add_argument("partner", metavar="PARTNER", help="partner code")
    create.add_argument("--label", help="free text, e.g. 'ERP rotation 2025'")
    create.add_argument("--signed", action="store_true", help="also issue a signing secret; require signed requests")
    create.set_defaults(handler=_create)
    revoke = commands.add_parser("revoke", help="revoke a key by its id (key_…)")
    revoke.add_argument("key_id", metavar="KEY_ID")
    revoke.set_defaults(handler=_revoke)
    listing = commands.add_parser("list", help="key ids, labels, last use (never the keys)")
    listing.add_argument("partner", nargs="?", metavar="PARTNER")
    listing.set_defaults(handler=_list)


def _create(args: argparse.Namespace) -> int:
    from crossdock.gateway.auth.keys import create_key
    from crossdock.gateway.partners import partner_by_code

    with in_store() as (_, conn):
        partner = partner_by_code(conn, args.partner)
        if partner is None:
            return no_partner(args.partner)
        new = create_key(conn, partner.id, actor=cli_actor(), label=args.label, signed=args.signed)
    print(f"key id:  {new.id}")
    print(f"API key: {new.key}")
    if new.signing_secret:
        print(f"signing secret: {new.signing_secret}")
    print("Store it now: it is not shown again (only its hash is kept).", file=sys.stderr)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from crossdock.gateway.auth.keys import revoke_key
    from crossdock.schemas.errors import CrossdockError

    try:
        with in_store() as (_, conn):
            record = revoke_key(conn, args.key_id, actor=cli_actor(), scope=None)
    except CrossdockError as exc:
        return fail(exc)
    print(f"revoked {record.id} ({record.partner_code}) at {record.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def _list(args: argparse.Namespace) -> int:
    from crossdock.gateway.auth.keys import list_keys
    from crossdock.gateway.partners import partner_by_code

    with in_store(write=False) as (_, conn):
        partner = partner_by_code(conn, args.partner) if args.partner else None
        if args.partner and partner is None:
            return no_partner(args.partner)
        keys = list_keys(conn, scope=None, partner_id=partner.id if partner else None)
    for k in keys:
        state = "revoked" if k.revoked_at else "active"
        used = f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never"
        print(f"{k.id:<20} {k.partner_code:<16} {state:<8} {k.prefix}…  used {used:<16} {k.label or ''}")
    return 0
