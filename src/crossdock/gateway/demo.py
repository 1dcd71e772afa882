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
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from crossdock.gateway.partners import (
    AgreementConfig,
    ChannelConfig,
    IdentitySpec,
    create_partner,
    partner_by_code,
)

__all__ = ["load_demo", "DEMO_KEYS"]

DEMO_KEYS = {"erp": "demo-erp-key", "acme": "demo-acme-key", "globex": "demo-globex-key"}
_PARTNERS = (("acme", "ACME Retail (buyer)", "ZZ:ACMEBUYER"), ("globex", "Globex Supply (seller)", "ZZ:GLOBEXSUP"))


def load_demo(engine: Engine, var_dir: Path) -> list[str]:
    """Create the demo partners that do not exist yet; returns the codes created."""
    created: list[str] = []
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
    return created
