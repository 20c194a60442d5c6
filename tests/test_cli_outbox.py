"""The alert and webhook commands, as an operator runs them, against real local receivers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from standardwebhooks import Webhook

from tests.conftest import write_config
from tests.test_cli import monitor
from tests.test_pipeline import serve_seed
from tests.web import Receiver, Site

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def test_dead_alerts_are_listed_retried_shown_and_replayed(
    site: Site, fixtures_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    receiver = await Receiver(statuses=[500]).start()
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=sqlite_url,
        feeds=[serve_seed(site, fixtures_dir)],
        webhook_url=receiver.url,
        sections={"delivery": {"retry_seconds": []}},
    )
    base = ("--config", str(config))
    try:
        status, out, err = await monitor(*base, "once", cwd=tmp_path)
        assert status == 0, err
        assert "alerts sent: 0, failed: 1" in out
        status, out, _ = await monitor(*base, "alerts", "list", "--status", "dead", cwd=tmp_path)
        [alert_id] = re.findall(r"^([0-9a-f-]{36})\s+dead", out, flags=re.MULTILINE)

        status, out, _ = await monitor(*base, "alerts", "retry", "--dead", cwd=tmp_path)
        assert out.strip() == "1 alert(s) will be sent again now"
        status, out, _ = await monitor(*base, "once", cwd=tmp_path)
        assert "alerts sent: 1, failed: 0" in out

        status, out, _ = await monitor(*base, "alerts", "show", alert_id, cwd=tmp_path)
        assert status == 0
        assert f"alert {alert_id} (article.matched) to default: delivered" in out
        assert re.search(r"^1\s+\S+ \S+\s+500\s+\d+\s+HTTP 500", out, flags=re.MULTILINE)
        assert re.search(r"^2\s+\S+ \S+\s+200\s+\d+\s*$", out, flags=re.MULTILINE)
        assert '"type": "article.matched"' in out

        status, out, _ = await monitor(*base, "alerts", "replay", "--since", "1h", cwd=tmp_path)
        assert out.strip() == "1 delivered alert(s) will be sent again, with their ids"
        await monitor(*base, "once", cwd=tmp_path)
    finally:
        await receiver.close()
    assert [d.headers["webhook-id"] for d in receiver.deliveries] == [alert_id] * 3


async def test_webhooks_test_list_gone_and_enable(tmp_path: Path, sqlite_url: str) -> None:
    receiver = await Receiver().start()
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=sqlite_url,
        feeds=[],
        webhook_url=receiver.url + "?token=abc",
        webhook_secret=SECRET,
    )
    base = ("--config", str(config))
    try:
        assert (await monitor(*base, "db", "upgrade", cwd=tmp_path))[0] == 0
        status, out, err = await monitor(*base, "webhooks", "test", "default", cwd=tmp_path)
        assert status == 0, err
        assert re.match(r"test event test_[0-9a-f]+ delivered to default: HTTP 200 in \d+ ms", out)
        [delivery] = receiver.deliveries
        assert Webhook(SECRET).verify(delivery.body, delivery.headers)["type"] == "test"

        receiver.statuses = [410]
        status, _, err = await monitor(*base, "webhooks", "test", "nope", cwd=tmp_path)
        assert (status, "no webhook 'nope'; known: default" in err) == (1, True)
        status, _, err = await monitor(*base, "webhooks", "test", "default", cwd=tmp_path)
        assert status == 1
        assert "failed: HTTP 410 Gone" in err

        status, out, _ = await monitor(*base, "webhooks", "list", cwd=tmp_path)
        assert "token=abc" not in out
        assert re.search(
            r"^default\s+ok\s+json\s+alert\s+-\s+0\s+0\s+http://127\.0\.0\.1:\d+/hook\?token=\*\*\*$",
            out,
            flags=re.MULTILINE,
        )
    finally:
        await receiver.close()


async def test_check_config_hides_secrets(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(
        tmp_path / "monitor.toml",
        feeds=[],
        database_url="postgresql+asyncpg://monitor:pa55word@db/monitor",
        webhook_url="https://hooks.slack.com/services/T0/B0/s3cr3tpath",
        webhook_secret=SECRET,
    )
    status, out, err = await monitor("--config", str(config), "check-config", cwd=tmp_path)
    assert status == 0, err
    effective = json.loads(out)
    assert effective["webhook_secret"] == "**********"
    assert effective["webhook_url"] == "https://hooks.slack.com/services/T0/B0/***"
    assert effective["database_url"] == "postgresql+asyncpg://***@db/monitor"
    for secret in ("MfKQ9r8", "s3cr3tpath", "pa55word"):
        assert secret not in out + err
    status, out, err = await monitor(
        "--config", str(config), "--help", cwd=tmp_path, env={"MONITOR_WEBHOOK_SECRET": SECRET}
    )
    assert "MfKQ9r8" not in out + err


async def test_alerts_of_a_renamed_endpoint_are_shown_and_moved(
    site: Site, fixtures_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    receiver = await Receiver(statuses=[503]).start()
    feed = serve_seed(site, fixtures_dir)

    def config(name: str) -> tuple[str, str]:
        path = write_config(
            tmp_path / f"{name}.toml",
            database_url=sqlite_url,
            feeds=[feed],
            webhooks=[{"name": name, "url": receiver.url}],
            sections={"delivery": {"retry_seconds": [3600]}},
        )
        return ("--config", str(path))

    try:
        status, out, err = await monitor(*config("ops"), "once", cwd=tmp_path)
        assert status == 0, err
        assert "alerts sent: 0, failed: 1" in out  # pending, to retry in an hour
        # The operator renames the endpoint: its pending alert must not vanish from view.
        renamed = config("alerts-team")
        _, out, _ = await monitor(*renamed, "webhooks", "list", cwd=tmp_path)
        assert re.search(r"^ops\s+not configured\s+-\s+-\s+-\s+1\s+0", out, flags=re.MULTILINE)
        _, out, _ = await monitor(*renamed, "alerts", "list", cwd=tmp_path)
        assert "ops (not configured)" in out

        status, _, err = await monitor(
            *renamed, "alerts", "move", "--from", "ops", "--to", "nowhere", cwd=tmp_path
        )
        assert status == 1
        assert "no webhook 'nowhere' in the config" in err
        status, out, _ = await monitor(
            *renamed, "alerts", "move", "--from", "ops", "--to", "alerts-team", cwd=tmp_path
        )
        assert (status, out.strip()) == (0, "1 alert(s) moved from ops to alerts-team")
        _, out, _ = await monitor(*renamed, "alerts", "retry", "--dead", cwd=tmp_path)
        status, out, _ = await monitor(*renamed, "alerts", "list", cwd=tmp_path)
        assert "not configured" not in out
    finally:
        await receiver.close()
