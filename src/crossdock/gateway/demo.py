"""Demo partners for ``crossdock serve --demo``: post the files in ``examples/`` right away.

=========  ======  ====================  ================  =========================================
code       kind    API key               ISA sender        agreements
=========  ======  ====================  ================  =========================================
``erp``    host    ``demo-erp-key``      —                 sees every message; may address partners
``acme``   buyer   ``demo-acme-key``     ``ZZ:ACMEBUYER``  inbound ``*`` (997, TA1 on request);
                                                           outbound ``*`` X12 004010 into
                                                           ``<var>/outbox/acme`` (acks, 855s…)
``globex`` seller  ``demo-globex-key``   ``ZZ:GLOBEXSUP``  inbound ``*``; outbound ``*`` into
                                                           ``<var>/outbox/globex``
=========  ======  ====================  ================  =========================================

Inventory (``demo_inventory.yaml``): Globex supplies ACME's stores 42 and 43 under VMI with the items of
``examples/850.x12``, ``852.x12`` and ``856.x12``; post the 852 as ACME and Globex's portal shows proposals.

People (web pages at ``/login``): ``ops`` / ``demo-ops-password`` (console), ``globex-sales`` /
``demo-supplier-password`` (supplier portal, partner ``globex``), ``admin`` / ``demo-admin-password``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import Engine, select

from crossdock.gateway.auth.users import create_user, password_hasher
from crossdock.gateway.inventory.importer import parse_master_data
from crossdock.gateway.inventory.store import save_master_data
from crossdock.gateway.partners import (
    AgreementConfig,
    ChannelConfig,
    IdentitySpec,
    create_partner,
    partner_by_code,
)

from crossdock.gateway.settings import AuthSettings
from crossdock.gateway.store import schema as t

__all__ = ["load_demo", "demo_banner", "DEMO_KEYS", "DEMO_USERS"]

DEMO_KEYS = {"erp": "demo-erp-key", "acme": "demo-acme-key", "globex": "demo-globex-key"}
#: user name → (password, role, partner code)
DEMO_USERS = {"ops": ("demo-ops-password", "ops", None),
              "globex-sales": ("demo-supplier-password", "supplier", "globex"),
              "admin": ("demo-admin-password", "admin", None)}
_PARTNERS = (("acme", "ACME Retail (buyer)", "ZZ:ACMEBUYER"), ("globex", "Globex Supply (seller)", "ZZ:GLOBEXSUP"))


def load_demo(engine: Engine, var_dir: Path, hasher: PasswordHasher | None = None) -> list[str]:
    """Create the demo partners and users that do not exist yet; returns the codes created."""
    created: list[str] = []
    hasher = hasher or password_hasher(AuthSettings())
    with engine.begin() as conn:
        if partner_by_code(conn, "erp") is None:
            create_partner(conn, code="erp", name="Our ERP (host)", kind="host",
                           identities=[IdentitySpec(kind="api_key", value=DEMO_KEYS["erp"])])
            created.append("erp")
        for code, name, isa in _PARTNERS:
            if partner_by_code(conn, code) is not None:
                continue
            outbox = (var_dir / "outbox" / code).resolve()
            outbox.mkdir(parents=True, exist_ok=True)
            channel = ChannelConfig(kind="directory", directory=outbox)
            create_partner(
                conn, code=code, name=name,
                identities=[IdentitySpec(kind="isa", value=isa), IdentitySpec(kind="api_key", value=DEMO_KEYS[code])],
                agreements=[("*", "inbound", AgreementConfig()),
                            ("*", "outbound", AgreementConfig(channel=channel))],
            )
            created.append(code)
        _load_users(conn, hasher)
        demo_inventory = resources.files("crossdock.gateway").joinpath("demo_inventory.yaml").read_text("utf-8")
        save_master_data(conn, parse_master_data(demo_inventory, "yaml"), now=datetime.now(UTC))
    return created


def _load_users(conn, hasher: PasswordHasher) -> None:
    existing = set(conn.execute(select(t.users.c.username)).scalars())
    for username, (password, role, partner_code) in DEMO_USERS.items():
        if username in existing:
            continue
        partner = partner_by_code(conn, partner_code) if partner_code else None
        create_user(conn, hasher, username=username, password=password, role=role,
                    partner_id=partner.id if partner else None, actor="system")


def demo_banner(base_url: str) -> list[str]:
    """What ``serve --demo`` prints: a partner's key, a supplier's and an ops login, and a first try."""
    ops, supplier = DEMO_USERS["ops"], DEMO_USERS["globex-sales"]
    return [
        f"demo API keys: {', '.join(f'{code}={key}' for code, key in DEMO_KEYS.items())}",
        f"supplier portal: {base_url}/login as globex-sales / {supplier[0]}",
        f"ops console:     {base_url}/login as ops / {ops[0]}  (admin / {DEMO_USERS['admin'][0]})",
        f"try: curl -H 'X-Api-Key: {DEMO_KEYS['acme']}' --data-binary @examples/850.x12 {base_url}/api/v1/messages",
        f"     (examples/852.x12 as acme too: sales and stock at two stores -> proposals in Globex's portal)",
    ]
