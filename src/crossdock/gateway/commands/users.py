"""``crossdock users create USERNAME --role admin|ops|supplier [--partner CODE] [--password-stdin]``.

The first admin is made this way. The password is read from a prompt (twice), or from the
first line of standard input with ``--password-stdin`` (scripts); never from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from crossdock.gateway.commands.store import cli_actor, fail, in_store, no_partner

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="people who log in to the web pages")
    commands = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    create = commands.add_parser("create", help="create a user (the first admin, ops staff, supplier staff)")
    create.add_argument("username")
    create.add_argument("--role", choices=("admin", "ops", "supplier"), required=True)
    create.add_argument("--partner", metavar="CODE", help="supplier users: the partner they belong to")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(handler=_create)
    disable = commands.add_parser("disable", help="stop a user from logging in (ends its sessions)")
    disable.add_argument("username")
    disable.set_defaults(handler=_disable)
    listing = commands.add_parser("list", help="one line per user")
    listing.set_defaults(handler=_list)


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat: ") != first:
        print("error: the passwords differ", file=sys.stderr)
        return None
    return first


def _create(args: argparse.Namespace) -> int:
    from crossdock.gateway.auth.users import create_user, password_hasher
    from crossdock.gateway.partners import partner_by_code
    from crossdock.schemas.errors import CrossdockError

    password = _password(args)
    if password is None:
        return 2
    try:
        with in_store() as (settings, conn):
            partner = partner_by_code(conn, args.partner) if args.partner else None
            if args.partner and partner is None:
                return no_partner(args.partner)
            user = create_user(conn, password_hasher(settings.auth), username=args.username, password=password,
                               role=args.role, partner_id=partner.id if partner else None, actor=cli_actor())
    except CrossdockError as exc:
        return fail(exc)
    print(f"created {user.role} user {user.username}" + (f" for {user.partner_code}" if user.partner_code else ""))
    return 0


def _disable(args: argparse.Namespace) -> int:
    from crossdock.gateway.auth.users import disable_user
    from crossdock.schemas.errors import CrossdockError

    try:
        with in_store() as (_, conn):
            disable_user(conn, args.username, actor=cli_actor())
    except CrossdockError as exc:
        return fail(exc)
    print(f"disabled {args.username}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from crossdock.gateway.auth.users import list_users

    with in_store(write=False) as (_, conn):
        users = list_users(conn)
    for u in users:
        login = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never"
        print(f"{u.username:<24} {u.role:<9} {u.partner_code or '-':<16} last login {login}"
              + ("  (disabled)" if u.disabled else ""))
    return 0
