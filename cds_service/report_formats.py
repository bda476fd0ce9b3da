"""The override report as a table, CSV, JSON or a self-contained HTML page with a bar chart."""
from __future__ import annotations

import csv
import html
import io
import json
from datetime import UTC, datetime

from cds_service.store.report import RuleReport

COLUMNS = ("rule", "issued", "accepted", "overridden", "override_rate", "top_reasons", "comments", "silent", "suppressed")
# Per rule in the HTML chart: what the committee compares to see which rules are noisy (issue 13).
COUNTS = ("issued", "accepted", "overridden", "silent", "suppressed")


def _rate(report: RuleReport) -> str:
    return "" if report.override_rate is None else f"{report.override_rate * 100:.0f}%"


def _reasons(report: RuleReport) -> str:
    return "; ".join(f"{reason} ({count})" for reason, count in report.top_reasons())


def as_rows(reports: list[RuleReport]) -> list[dict]:
    return [
        {
            "rule": r.rule_id,
            "issued": r.issued,
            "accepted": r.accepted,
            "overridden": r.overridden,
            "override_rate": None if r.override_rate is None else round(r.override_rate, 4),
            "top_reasons": [{"reason": reason, "count": count} for reason, count in r.top_reasons()],
            "comments": r.comments[-5:],
            "silent": r.silent,
            "suppressed": r.suppressed,
        }
        for r in reports
    ]


def as_json(reports: list[RuleReport]) -> str:
    return json.dumps({"rules": as_rows(reports)}, indent=2)


def as_csv(reports: list[RuleReport]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for r in reports:
        writer.writerow([r.rule_id, r.issued, r.accepted, r.overridden, _rate(r), _reasons(r), " | ".join(r.comments[-5:]),
                         r.silent, r.suppressed])
    return buffer.getvalue()


def as_table(reports: list[RuleReport]) -> str:
    if not reports:
        return "No cards issued in this period."
    header = ("rule", "issued", "accepted", "overridden", "silent", "suppressed", "override rate", "top override reasons")
    rows = [(r.rule_id, str(r.issued), str(r.accepted), str(r.overridden), str(r.silent), str(r.suppressed),
             _rate(r) or "-", _reasons(r) or "-")
            for r in reports]
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Card override report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem;
       color: #1b1f24; line-height: 1.45; padding: 0 1rem; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} .meta {{ color: #57606a; margin-top: 0; }}
table {{ border-collapse: collapse; width: 100%; margin: 1.5rem 0; font-size: .95rem; }}
th, td {{ text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }}
th {{ background: #f6f8fa; }} td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.bar-row {{ display: grid; grid-template-columns: 16rem 1fr 4rem; align-items: center; gap: .6rem; margin: .3rem 0; }}
.bar {{ background: #eaeef2; height: 1.1rem; border-radius: 3px; }} .fill {{ background: #cf222e; height: 100%; border-radius: 3px; }}
.fill.low {{ background: #1a7f37; }} .fill.mid {{ background: #bf8700; }}
.counts {{ display: grid; grid-template-columns: 16rem 1fr; gap: .6rem; margin: .7rem 0; align-items: start; }}
.count-row {{ display: grid; grid-template-columns: 6.5rem 1fr 3rem; gap: .4rem; align-items: center; font-size: .85rem; }}
.count-row .bar {{ height: .8rem; }} .count-row .n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.fill.issued {{ background: #0969da; }} .fill.accepted {{ background: #1a7f37; }} .fill.overridden {{ background: #cf222e; }}
.fill.silent {{ background: #8250df; }} .fill.suppressed {{ background: #6e7781; }}
code {{ font-size: .9em; }} @media print {{ body {{ margin: 0; }} .bar, .fill {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }} }}
</style></head>
<body>
<h1>Card override report</h1>
<p class="meta">Iliac vein pathway CDS · generated {generated}{since}</p>
<h2>Override rate per rule</h2>
<div role="img" aria-label="Bar chart of override rates per rule">
{bars}
</div>
<h2>Cards per rule</h2>
<p class="meta">Issued = shown to a clinician. Silent = the rule's site mode is silent: logged, never shown (it would
have fired). Suppressed = not shown again after a clinician answered the same card for the same evidence.</p>
<div role="img" aria-label="Bar chart of issued, accepted, overridden, silent and suppressed cards per rule">
{counts}
</div>
<h2>Details</h2>
<table>
<thead><tr><th>Rule</th><th>Issued</th><th>Accepted</th><th>Overridden</th><th>Override rate</th><th>Top override reasons</th><th>Recent comments</th><th>Silent</th><th>Suppressed</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p class="meta">Override rate = overridden ÷ cards with feedback. Cards without feedback were ignored by the clinician.</p>
</body></html>
"""


def as_html(reports: list[RuleReport], since: datetime | None = None) -> str:
    bars, rows = [], []
    for r in reports:
        rate = r.override_rate
        width = 0 if rate is None else round(rate * 100)
        level = "low" if width < 20 else "mid" if width < 50 else ""
        bars.append(
            f'<div class="bar-row"><code>{html.escape(r.rule_id)}</code>'
            f'<div class="bar"><div class="fill {level}" style="width:{width}%"></div></div>'
            f"<span>{html.escape(_rate(r) or 'n/a')}</span></div>"
        )
        rows.append(
            "<tr>"
            f"<td><code>{html.escape(r.rule_id)}</code></td><td class=n>{r.issued}</td><td class=n>{r.accepted}</td>"
            f"<td class=n>{r.overridden}</td><td class=n>{html.escape(_rate(r) or '-')}</td>"
            f"<td>{html.escape(_reasons(r) or '-')}</td>"
            f"<td>{'<br>'.join(html.escape(c) for c in r.comments[-3:]) or '-'}</td>"
            f"<td class=n>{r.silent}</td><td class=n>{r.suppressed}</td>"
            "</tr>"
        )
    if not reports:
        bars.append("<p>No cards issued in this period.</p>")
    return PAGE.format(
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        since=f" · since {since.date().isoformat()}" if since else "",
        bars="\n".join(bars),
        counts=_counts_html(reports),
        rows="\n".join(rows),
    )


def _counts_html(reports: list[RuleReport]) -> str:
    """One group of bars per rule, every bar on the same scale (the largest count of the report)."""
    largest = max((getattr(r, name) for r in reports for name in COUNTS), default=0) or 1
    groups = []
    for r in reports:
        rows = "".join(
            f'<div class="count-row"><span>{name}</span><div class="bar"><div class="fill {name}" '
            f'style="width:{round(getattr(r, name) * 100 / largest)}%"></div></div><span class="n">{getattr(r, name)}</span></div>'
            for name in COUNTS
        )
        groups.append(f'<div class="counts"><code>{html.escape(r.rule_id)}</code><div>{rows}</div></div>')
    return "\n".join(groups)


PLAIN_FORMATS = {"table": as_table, "csv": as_csv, "json": as_json}
FORMATS = (*PLAIN_FORMATS, "html")


def render(name: str, reports: list[RuleReport], since: datetime | None = None) -> str:
    """The report in one of FORMATS; only the HTML page states the period it covers."""
    return as_html(reports, since) if name == "html" else PLAIN_FORMATS[name](reports)
