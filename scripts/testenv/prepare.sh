#!/usr/bin/env bash
# What `make test` (and so CI) runs before pytest: the browser assets the hub serves (`npm ci`, package.json),
# and the servers of KIMHUB_TEST_SERVICES=local (the default).
#   PostgreSQL at 127.0.0.1:5432 (postgres.sh), a JDK and Maven (Debian packages, installed when missing),
#   Apache Kafka's jars from Maven Central into ~/.cache/kimhub/kafka (tests/support/apache_kafka.py).
#   For the web interface's browser tests: Debian's chromium and npm (installed when missing).
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

# install_debian WHAT-NEEDS-THEM PACKAGE...: install the Debian packages (as root), or say what is missing
install_debian() {
  local who=$1; shift
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "testenv: $who needs $*; install them (as root)" >&2
    exit 1
  fi
  echo "testenv: installing $*"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

web_missing=()
[ -x /usr/bin/chromium ] || web_missing+=(chromium)
command -v npm >/dev/null || web_missing+=(npm)
install_debian "the web interface and its browser tests" ${web_missing[@]+"${web_missing[@]}"}
if [ "$mode" != local ]; then
  echo "testenv: KIMHUB_TEST_SERVICES=$mode, no servers to prepare"; exit 0
fi
scripts/testenv/postgres.sh
if [ -z "${KIMHUB_TEST_KAFKA_BOOTSTRAP:-}" ]; then
  missing=()
  command -v java >/dev/null || [ -x "${JAVA_HOME:-/nonexistent}/bin/java" ] || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  install_debian "Apache Kafka (or set KIMHUB_TEST_KAFKA_BOOTSTRAP)" ${missing[@]+"${missing[@]}"}
  .venv/bin/python -m tests.support.apache_kafka prepare
fi
