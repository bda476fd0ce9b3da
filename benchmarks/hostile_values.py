"""Every number and every date of every fixture request replaced by a hostile value: count the 5xx.

Run by hand (1-3 min):  python benchmarks/hostile_values.py
Numbers become NaN, +-Infinity, 1e400, 10**400, +-1e308 (raw JSON tokens); dates become year 0001
and 9999, with and without offsets; five feedback bodies carry NUL, a lone surrogate, or such a
timestamp. Issue 11 finding 3: 4,514 x 5xx of 26,753 requests before, 0 after (docs/operations.md).
"""
import collections
import copy
import json
import logging
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.fixtures import all_fixtures, build_request
logging.disable(logging.CRITICAL)
app = create_app(Settings(auth="off", database_url="sqlite://", public_base_url="http://t", log_level="CRITICAL"))
errors = collections.Counter()
def surf(e): errors[type(e).__name__]+=1; raise e
c = app.test_client()
services = {e["hook"]: e for e in c.get("/cds-services").get_json()["services"]}
NUMS = ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0"*400, "-1e308", "1e308"]
DATES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01", "9999-12-31"]
def positions(doc, path=()):
    if isinstance(doc, dict):
        for k, v in doc.items(): yield from positions(v, path+(k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc): yield from positions(v, path+(i,))
    else: yield path, doc
def setp(doc, path, v):
    for s in path[:-1]: doc = doc[s]
    doc[path[-1]] = v
total = fails = 0
DATE = re.compile(r"^\d{4}-\d{2}")
by_kind = collections.Counter()
for fx in all_fixtures():
    entry = services[fx.hook]
    body = build_request(fx, entry, prefetch=True)
    text = json.dumps(body)
    for path, v in positions(body):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            repl = NUMS; kind = "number"
        elif isinstance(v, str) and DATE.match(v):
            repl = DATES; kind = "date"
        else: continue
        for r in repl:
            b = copy.deepcopy(body); setp(b, path, "@@X@@")
            raw = json.dumps(b).replace('"@@X@@"', r if kind == "number" else json.dumps(r))
            total += 1
            st = c.post(f"/cds-services/{entry['id']}", data=raw, content_type="application/json").status_code
            if st >= 500: fails += 1; by_kind[(kind, r)] += 1
# feedback
FB = ['{"card":"c","outcome":"overridden","outcomeTimestamp":"9999-12-31T23:59:59-14:00","overrideReason":{"userComment":"x"}}',
      '{"card":"c","outcome":"overridden","outcomeTimestamp":"0001-01-01T00:00:00+14:00","overrideReason":{"userComment":"x"}}',
      '{"card":"c","outcome":"overridden","outcomeTimestamp":"2026-01-01T00:00:00Z","overrideReason":{"userComment":"a\\u0000b"}}',
      '{"card":"c","outcome":"overridden","outcomeTimestamp":"2026-01-01T00:00:00Z","overrideReason":{"userComment":"a\\ud800b"}}',
      '{"card":"c\\u0000","outcome":"overridden","outcomeTimestamp":"2026-01-01T00:00:00Z","overrideReason":{"userComment":"x"}}']
fb_fail = 0
for item in FB:
    st = c.post("/cds-services/iliac-vein-order-sign/feedback", data=f'{{"feedback":[{item}]}}', content_type="application/json").status_code
    total += 1
    if st >= 500: fb_fail += 1
print(f"requests {total}, 5xx {fails} hook + {fb_fail} feedback", dict(by_kind), dict(errors))
