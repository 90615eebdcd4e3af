"""``clicktrail visitors delete``: delete a visitor on request, as ``DELETE visitors/...`` does
(the same service, the same JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import msgspec

from collector.cli.common import add_settings
from collector.cli.store import cli_store
from collector.config import Settings, SettingsError
from collector.errors import DomainError
from collector.privacy import service
from collector.privacy.schema import MAX_VISITOR_ID, VisitorsQuery


def register(commands: argparse._SubParsersAction) -> None:
    visitors = commands.add_parser("visitors", help="visitors' data").add_subparsers(
        dest="action", required=True
    )
    delete = visitors.add_parser(
        "delete",
        help="delete a visitor (or every visitor of an external id or customer) and everything "
        "stored of them; prints what went",
    )
    delete.add_argument("visitor_id", nargs="?", help="the visitor's id (clicks' visitor_id)")
    delete.add_argument("--brand", type=int, required=True)
    delete.add_argument("--external-id", help="every visitor identified as this id instead")
    delete.add_argument("--customer-id", help="every visitor of this customer instead")
    add_settings(delete, ["database", "export_dir", "replay_assets_dir", "webhook_outbox"])
    delete.set_defaults(run=visitors_delete)


def _target(args: argparse.Namespace) -> service.Target:
    given = [v for v in (args.visitor_id, args.external_id, args.customer_id) if v is not None]
    if len(given) != 1:
        raise SettingsError("give exactly one of VISITOR_ID, --external-id and --customer-id")
    if args.visitor_id is not None:
        if not 0 < len(args.visitor_id) <= MAX_VISITOR_ID:
            raise SettingsError(f"VISITOR_ID must be 1 to {MAX_VISITOR_ID} characters")
        return service.Target(visitor_id=args.visitor_id)
    try:
        query = msgspec.convert(
            {"externalId": args.external_id, "customerId": args.customer_id}, VisitorsQuery
        )
        return service.target_of(query)
    except (msgspec.ValidationError, DomainError) as exc:
        raise SettingsError(str(exc)) from None


def visitors_delete(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    target = _target(args)
    files = service.Files(
        exports=Path(settings.export_dir), assets=Path(settings.replay_assets_dir)
    )
    with cli_store(settings.database) as store:
        if settings.webhook_outbox and hasattr(store, "outbox_path"):
            store.outbox_path = settings.webhook_outbox  # a ClickHouse collector's local outbox
        if store.get_brand(args.brand) is None:
            raise SettingsError(f"--brand: no brand {args.brand}")
        deleted: dict[str, Any] = msgspec.structs.asdict(
            service.delete(store, files, args.brand, target)
        )
    return deleted
