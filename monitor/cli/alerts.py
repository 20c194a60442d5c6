"""Commands for alerts and webhook endpoints, and ``check-config``."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor.cli.output import print_table, when
from monitor.text.redact import redact, redact_url

if TYPE_CHECKING:  # imported where used, so that ``--help`` loads no HTTP or database stack
    from monitor.deliver.webhook import Endpoint
    from monitor.settings import Settings
    from monitor.store.facade import Store

EXIT_OK, EXIT_FAILURE = 0, 1
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h`` or ``1d`` as a timedelta (argparse type)."""
    found = _DURATION.match(text.strip())
    if not found:
        raise argparse.ArgumentTypeError(f"expected a duration like 30m, 2h or 1d, not {text!r}")
    return timedelta(seconds=float(found[1]) * _UNITS[found[2]])


def add_outbox_commands(commands: Any) -> None:
    """The ``alerts``, ``webhooks`` and ``check-config`` commands."""
    alerts = commands.add_parser("alerts", help="inspect, retry and replay alerts")
    actions = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the most recent alerts")
    listing.add_argument("--status", choices=["pending", "delivered", "dead"])
    listing.add_argument("--limit", type=int, default=50)
    show = actions.add_parser("show", help="one alert: its payload and every attempt")
    show.add_argument("id")
    retry = actions.add_parser("retry", help="send alerts again now, with a fresh schedule")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("ids", nargs="*", default=[], metavar="ID")
    which.add_argument("--dead", action="store_true", help="every dead alert")
    replay = actions.add_parser(
        "replay", help="send delivered alerts again, with the same ids (receivers de-duplicate)"
    )
    replay.add_argument("--since", type=duration, required=True, help="e.g. 30m, 2h, 1d")
    move = actions.add_parser(
        "move", help="re-route an endpoint's undelivered alerts, e.g. after renaming it"
    )
    move.add_argument("--from", dest="source", required=True, metavar="OLD")
    move.add_argument("--to", dest="target", required=True, metavar="NEW")

    webhooks = commands.add_parser("webhooks", help="webhook endpoints")
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="endpoints, their state and what waits for them")
    test = actions.add_parser("test", help="send a signed test event to an endpoint")
    test.add_argument("name")
    enable = actions.add_parser("enable", help="re-enable an endpoint disabled by 410 Gone")
    enable.add_argument("name")
    digest = actions.add_parser("digest", help="send an endpoint's digest now")
    digest.add_argument("name")

    commands.add_parser("check-config", help="print the effective configuration, secrets hidden")


def cmd_alerts(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.app.resources import open_store
    from monitor.deliver.settings import DEFAULT_WEBHOOK

    configured = {webhook.name for webhook in settings.all_webhooks()} or {DEFAULT_WEBHOOK}

    async def go() -> int:
        now = datetime.now(UTC)
        async with open_store(settings, require_current=True) as store:
            if args.alerts_command == "show":
                detail = await store.alert_detail(args.id)
                if detail is None:
                    print(f"monitor: no alert {args.id}", file=sys.stderr)
                    return EXIT_FAILURE
                alert = detail.alert
                print(f"alert {alert.id} ({alert.kind}) to {alert.endpoint}: {alert.status}")
                print(f"created {when(alert.created_at)}, delivered {when(detail.delivered_at)}")
                if alert.status == "pending":
                    print(f"next attempt {when(alert.next_attempt_at)}")
                print()
                print_table(
                    ["TRY", "AT", "STATUS", "MS", "ERROR"],
                    [
                        [
                            str(a.number),
                            when(a.at),
                            str(a.status_code or "-"),
                            str(a.duration_ms),
                            a.error or "",
                        ]
                        for a in detail.attempts
                    ],
                )
                print()
                print(redact(json.dumps(detail.payload, ensure_ascii=False, indent=2)))
                return EXIT_OK
            if args.alerts_command == "retry":
                count = await store.retry_alerts(now, ids=args.ids, dead=args.dead)
                print(f"{count} alert(s) will be sent again now")
                return EXIT_OK
            if args.alerts_command == "replay":
                count = await store.replay_alerts(now - args.since, now)
                print(f"{count} delivered alert(s) will be sent again, with their ids")
                return EXIT_OK
            if args.alerts_command == "move":
                return await _move(store, configured, args.source, args.target)
            alerts = await store.list_alerts(args.status, args.limit)
        print_table(
            ["ID", "STATUS", "TRIES", "CREATED", "ENDPOINT", "TOPIC", "TITLE", "LAST ERROR"],
            [
                [
                    a.id,
                    a.status,
                    str(a.attempts),
                    when(a.created_at),
                    a.endpoint if a.endpoint in configured else f"{a.endpoint} (not configured)",
                    a.topic,
                    a.title[:60],
                    a.last_error or "",
                ]
                for a in alerts
            ],
        )
        return EXIT_OK

    return asyncio.run(go())


def cmd_webhooks(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.app.jobs import deliver_pending, queue_digest
    from monitor.app.resources import open_pipeline
    from monitor.deliver.payloads import iso_utc
    from monitor.deliver.webhook import post_alert

    async def go() -> int:
        async with open_pipeline(settings, prepare=False) as context:
            endpoints = {endpoint.name: endpoint for endpoint in context.endpoints}
            if args.webhooks_command == "list":
                states = await context.store.endpoint_states()
                print_table(
                    ["NAME", "STATE", "FORMAT", "LEVEL", "DIGEST", "PENDING", "DEAD", "URL"],
                    [
                        [
                            e.name,
                            _state(e, states[e.name].disabled_reason if e.name in states else None),
                            e.format,
                            e.min_level,
                            f"{e.digest} {e.timezone}" if e.takes_digest else "-",
                            str(states[e.name].pending if e.name in states else 0),
                            str(states[e.name].dead if e.name in states else 0),
                            redact_url(e.url),
                        ]
                        for e in endpoints.values()
                    ]
                    + [
                        # Alerts of an endpoint no longer in the config (renamed or removed):
                        # `monitor alerts move --from OLD --to NEW` re-routes them.
                        [name, "not configured", "-", "-", "-", str(s.pending), str(s.dead), "-"]
                        for name, s in states.items()
                        if name not in endpoints and (s.pending or s.dead)
                    ],
                )
                return EXIT_OK
            endpoint = endpoints.get(args.name)
            if endpoint is None:
                known = ", ".join(endpoints)
                print(f"monitor: no webhook {args.name!r}; known: {known}", file=sys.stderr)
                return EXIT_FAILURE
            if args.webhooks_command == "enable":
                enabled = await context.store.enable_endpoint(endpoint.name)
                print(
                    f"{endpoint.name} enabled" if enabled else f"{endpoint.name} was not disabled"
                )
                return EXIT_OK
            if args.webhooks_command == "digest":
                if not endpoint.takes_digest:
                    print(
                        f"monitor: {endpoint.name} takes no digest (min_level = alert)",
                        file=sys.stderr,
                    )
                    return EXIT_FAILURE
                await context.store.ensure_endpoints([endpoint.name])
                digest_id = await queue_digest(context, endpoint)
                if digest_id is None:
                    print(f"no digest-level stories for {endpoint.name} since its last digest")
                    return EXIT_OK
                report = await deliver_pending(context)
                print(
                    f"digest {digest_id} queued; alerts sent: {report.sent}, "
                    f"failed: {report.failed}"
                )
                return EXIT_OK
            now = context.clock()
            test_id = f"test_{uuid.uuid4().hex}"
            result = await post_alert(
                context.webhooks,
                endpoint,
                test_id,
                {
                    "id": test_id,
                    "type": "test",
                    "endpoint": endpoint.name,
                    "title": "monitor test event",
                    "created_at": iso_utc(now),
                },
                now=now,
                timeout_seconds=settings.delivery.timeout_seconds,
            )
            if result.ok:
                print(
                    f"test event {test_id} delivered to {endpoint.name}: "
                    f"HTTP {result.status_code} in {result.duration_ms} ms"
                )
                return EXIT_OK
            print(
                f"monitor: test event to {endpoint.name} failed: {redact(result.error or '')}",
                file=sys.stderr,
            )
            return EXIT_FAILURE

    return asyncio.run(go())


async def _move(store: Store, configured: set[str], source: str, target: str) -> int:
    if target not in configured:
        known = ", ".join(sorted(configured))
        print(f"monitor: no webhook {target!r} in the config; known: {known}", file=sys.stderr)
        return EXIT_FAILURE
    await store.ensure_endpoints([target])
    moved, stayed = await store.move_alerts(source, target)
    print(f"{moved} alert(s) moved from {source} to {target}")
    if stayed:
        print(f"{stayed} stayed with {source}: {target} already has an alert of the same story")
    return EXIT_OK


def _state(endpoint: Endpoint, disabled_reason: str | None) -> str:
    if endpoint.url is None:
        return "no URL"
    return f"disabled: {disabled_reason}" if disabled_reason else "ok"


def cmd_check_config(settings: Settings, _args: argparse.Namespace) -> int:
    """The configuration as the daemon sees it, file and environment merged, secrets hidden."""

    effective = settings.model_dump(mode="json")  # SecretStr values come out as "**********"
    effective["database_url"] = redact_url(settings.database_url)
    effective["webhook_url"] = redact_url(settings.webhook_url) if settings.webhook_url else None
    for section in ("webhooks", "feeds"):
        for item in effective.get(section, []):
            item["url"] = redact_url(item["url"])
    print(json.dumps(effective, ensure_ascii=False, indent=2))
    return EXIT_OK
