"""The test suite's one setting for where Apache Kafka and PostgreSQL come from (tests/support/services.py)."""
import re

import pytest

from tests.support.apache_kafka import ROOT, server_properties
from tests.support.services import (LOCAL_DATABASE_URL, Choice, ServiceChoiceError, choose, kafka_container_env,
                                    kafka_version)


def test_local_processes_are_the_default():
    assert choose({}) == Choice("local", None, LOCAL_DATABASE_URL)


def test_containers_start_both():
    assert choose({"KIMHUB_TEST_SERVICES": "containers"}) == Choice("containers", None, None)


def test_one_variable_points_one_server_elsewhere():
    env = {"KIMHUB_TEST_KAFKA_BOOTSTRAP": "kafka-1:9092"}
    assert choose(env) == Choice("local", "kafka-1:9092", LOCAL_DATABASE_URL)
    assert choose({**env, "KIMHUB_TEST_SERVICES": "containers"}) == Choice("containers", "kafka-1:9092", None)


def test_an_existing_cluster_needs_both_addresses():
    with pytest.raises(ServiceChoiceError, match="KIMHUB_TEST_KAFKA_BOOTSTRAP and KIMHUB_TEST_DATABASE_URL"):
        choose({"KIMHUB_TEST_SERVICES": "existing", "KIMHUB_TEST_KAFKA_BOOTSTRAP": "kafka-1:9092"})
    env = {"KIMHUB_TEST_SERVICES": "existing", "KIMHUB_TEST_KAFKA_BOOTSTRAP": "k:9092",
           "KIMHUB_TEST_DATABASE_URL": "postgresql://u:p@db:5432/postgres"}
    assert choose(env) == Choice("existing", "k:9092", "postgresql://u:p@db:5432/postgres")


def test_an_unknown_mode_is_refused():
    with pytest.raises(ServiceChoiceError, match="local, containers, existing"):
        choose({"KIMHUB_TEST_SERVICES": "docker"})


def test_the_container_runs_the_local_brokers_configuration_and_version():
    env = kafka_container_env(host_port=49152)
    local = dict(line.split("=", 1) for line in server_properties(9092, 9093, ROOT, {}).splitlines())
    assert len(env) == len(local)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://127.0.0.1:49152"
    assert re.fullmatch(r"4\.\d+\.\d+", kafka_version())
