"""The dashboard: what the fleet is doing and did, as HTML pages (docs/dashboard.md).

collect.py (and figures.py, events.py, records.py) gather plain values from the outcome ledger,
the mailbox, the rooms and the job logs; charts.py draws them as inline SVG; render.py makes the
pages (jinja2, autoescaped, redacted); server.py serves them (`agentos serve --dashboard`);
publish.py writes a static copy (`agentos dashboard --out DIR`).
"""
