"""How the command line prints: times and plain-text tables, every cell redacted."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.text.redact import redact


def when(moment: datetime | None) -> str:
    """A UTC time to the minute, or "-"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "-"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """Columns padded to their widest cell, two spaces apart; secrets in a cell (a feed URL's
    API key, an error that quotes a URL) are masked."""
    rows = [[redact(str(cell)) for cell in row] for row in rows]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
