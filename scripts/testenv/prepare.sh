#!/usr/bin/env bash
# What `make test` (and so CI) runs before pytest: the browser assets the hub serves (`npm ci`, package.json),
# and the servers of KIMHUB_TEST_SERVICES=local (the default).
#   PostgreSQL at 127.0.0.1:5432 (postgres.sh), a JDK and Maven (Debian packages, installed when missing),
#   Apache Kafka's jars from Maven Central into ~/.cache/kimhub/kafka (tests/support/apache_kafka.py).
# With KIMHUB_TEST_SERVICES=containers or existing there is nothing to prepare here.
set -euo pipefail
cd "$(dirname "$0")/../.."
assets="node_modules/.installed-$(cksum package-lock.json | cut -d' ' -f1)"  # the same stamp as the Makefile's
if [ ! -e "$assets" ]; then
  command -v npm >/dev/null || { echo "testenv: the hub's browser assets need npm (Debian: nodejs, npm)" >&2; exit 1; }
  npm ci --no-audit --no-fund --ignore-scripts
  touch "$assets"
fi
mode=${KIMHUB_TEST_SERVICES:-local}
if [ "$mode" != local ]; then
  echo "testenv: KIMHUB_TEST_SERVICES=$mode, nothing to prepare"; exit 0
fi
scripts/testenv/postgres.sh
if [ -z "${KIMHUB_TEST_KAFKA_BOOTSTRAP:-}" ]; then
  missing=()
  command -v java >/dev/null || [ -x "${JAVA_HOME:-/nonexistent}/bin/java" ] || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "testenv: Apache Kafka needs ${missing[*]}; install them (as root) or set KIMHUB_TEST_KAFKA_BOOTSTRAP" >&2
      exit 1
    fi
    echo "testenv: installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  .venv/bin/python -m tests.support.apache_kafka prepare
fi
