#!/usr/bin/env bash
# Screenshots of the web interface's main pages into docs/web/, taken by the browser walk test
# (tests/e2e/test_web_walk.py; test_web_rectify.py for the Berichtigung) in Debian's Chromium against the hub
# on PostgreSQL + Apache Kafka.
set -euo pipefail
cd "$(dirname "$0")/.."
KIMHUB_WEB_SCREENSHOTS=docs/web .venv/bin/python -m pytest -q -p no:randomly tests/e2e/test_web_walk.py tests/e2e/test_web_rectify.py
ls docs/web/*.png
