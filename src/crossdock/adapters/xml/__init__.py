"""XML codec: hardened parsing into :mod:`crossdock.schemas.xmltree` values, and rendering.

The only package that imports lxml. See :mod:`crossdock.adapters.xml.codec` for the refusal
policy and its stable codes.
"""

from __future__ import annotations

from crossdock.adapters.xml.codec import DEFAULT_LIMITS, XmlLimits, parse_xml, render_xml

__all__ = ["DEFAULT_LIMITS", "XmlLimits", "parse_xml", "render_xml"]
