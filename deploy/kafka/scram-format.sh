#!/usr/bin/env bash
# Start of the apache/kafka container in docker-compose.yml: formats the KRaft log directory once
# WITH the SCRAM users (kafka-storage format --add-scram; the broker must know its own inter-broker
# user before it can read any credential from the metadata log), then starts the image as usual
# (/etc/kafka/docker/run configures the broker from the KAFKA_* variables and finds the storage
# formatted). Passwords come from SCRAM_PASSWORD_* in the environment (letters and digits, e.g.
# `openssl rand -hex 24`). Users added later: kafka-configs.sh --alter --entity-type users ...
set -euo pipefail
storage_tool=${STORAGE_TOOL:-/opt/kafka/bin/kafka-storage.sh}  # overridden only by the tests
image_run=${IMAGE_RUN:-/etc/kafka/docker/run}

if [ ! -f "${KAFKA_LOG_DIRS}/meta.properties" ]; then
  format=$(mktemp)
  cat > "$format" <<PROPERTIES
process.roles=${KAFKA_PROCESS_ROLES}
node.id=${KAFKA_NODE_ID}
controller.quorum.voters=${KAFKA_CONTROLLER_QUORUM_VOTERS}
controller.listener.names=${KAFKA_CONTROLLER_LISTENER_NAMES}
listeners=${KAFKA_LISTENERS}
listener.security.protocol.map=${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP}
inter.broker.listener.name=${KAFKA_INTER_BROKER_LISTENER_NAME}
log.dirs=${KAFKA_LOG_DIRS}
PROPERTIES
  users=(--add-scram "SCRAM-SHA-512=[name=admin,password=${SCRAM_PASSWORD_ADMIN}]")
  for component in gateway gate delivery relay audit; do
    password="SCRAM_PASSWORD_${component^^}"
    users+=(--add-scram "SCRAM-SHA-512=[name=kimhub-${component},password=${!password}]")
  done
  "$storage_tool" format --cluster-id "$CLUSTER_ID" -c "$format" "${users[@]}"
  rm -f "$format"
fi

# The health check's client settings (the admin principal), readable by this user only.
umask 077
cat > "${ADMIN_PROPERTIES:-/tmp/admin.properties}" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${SCRAM_PASSWORD_ADMIN}";
PROPERTIES

exec "$image_run"
