#!/usr/bin/env bash
# Screenshots of the web interface's main pages into docs/web/, taken by the browser walk test
# (tests/e2e/test_web_walk.py) in Debian's Chromium against the hub on PostgreSQL + Apache Kafka.
set -euo pipefail
cd "$(dirname "$0")/.."
KIMHUB_WEB_SCREENSHOTS=docs/web .venv/bin/python -m pytest -q -p no:randomly tests/e2e/test_web_walk.py
ls docs/web/*.png
