"""``crossdock schema DOC``: print the JSON Schema of a canonical document.

DOC is a document type (``purchase_order``) or class name (``PurchaseOrder``). Unknown names
exit 2 and list the known ones.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("schema", help="print the JSON Schema of a canonical document")
    parser.add_argument("document", metavar="DOC", help="document type (purchase_order) or class (PurchaseOrder)")
    parser.add_argument("--compact", action="store_true", help="one line instead of indented JSON")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from crossdock.schemas.canonical import DOCUMENT_TYPES, document_class

    model = document_class(args.document)
    if model is None:
        known = ", ".join(f"{name} ({cls.__name__})" for name, cls in DOCUMENT_TYPES.items())
        print(f"crossdock schema: unknown document {args.document!r}; known: {known}", file=sys.stderr)
        return 2
    text = json.dumps(model.model_json_schema(), indent=None if args.compact else 2, sort_keys=False)
    sys.stdout.write(text + "\n")
    return 0
