"""kafka-python (2.0.2), used as its documentation shows, against a Freshet broker: for kafka-python.test.ts.

Usage: python3 kafka_python_clients.py <command>   (arguments as one JSON object on stdin, result as JSON on stdout)

  produce          KafkaProducer(value_serializer=json) sends {"values": [...], "keys": [...]?,
                   "timestamps": [...]?} to "topic", then flush(); prints each record's partition, offset, timestamp
  consume          KafkaConsumer(topic, group_id=..., auto_offset_reset='earliest', consumer_timeout_ms=...)
                   iterated until it times out; "commit": "manual" turns auto-commit off and calls commit()
                   at the end; prints the records and the offsets the group committed
  admin            KafkaAdminClient: create_topics "create" (NewTopic, "partitions" each), creating one twice,
                   list_topics, delete_topics "delete", list_topics again
  offsets_for_times  consumer.offsets_for_times({TopicPartition: "timestamp"}) on every partition of "topic",
                   with beginning_offsets and end_offsets

Every command takes "bootstrap" (host:port) and "api_version" (null: let kafka-python probe the broker, as its
documentation does; a list such as [2, 5, 0] pins it). Output includes the api_version kafka-python settled on.
FRESHET_KAFKA_DEBUG=1 logs kafka-python at DEBUG to stderr (the requests it sends, the versions it picked).
"""

import json
import logging
import os
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

if os.environ.get("FRESHET_KAFKA_DEBUG") == "1":
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
else:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)


def common(args):
    config = {"bootstrap_servers": args["bootstrap"], "request_timeout_ms": 15000}
    if args.get("api_version"):
        config["api_version"] = tuple(args["api_version"])
    return config


def produce(args):
    producer = KafkaProducer(
        value_serializer=lambda v: json.dumps(v).encode("utf-8"),
        key_serializer=lambda k: None if k is None else k.encode("utf-8"),
        **common(args),
    )
    keys = args.get("keys") or [None] * len(args["values"])
    timestamps = args.get("timestamps") or [None] * len(args["values"])
    futures = [
        producer.send(args["topic"], value=value, key=key, timestamp_ms=ts)
        for value, key, ts in zip(args["values"], keys, timestamps)
    ]
    producer.flush()
    sent = []
    for future in futures:
        metadata = future.get(timeout=10)
        sent.append({"partition": metadata.partition, "offset": metadata.offset, "timestamp": metadata.timestamp})
    version = producer.config["api_version"]
    producer.close()
    return {"apiVersion": list(version), "sent": sent}


def consume(args):
    manual = args.get("commit") == "manual"
    consumer = KafkaConsumer(
        args["topic"],
        group_id=args["group"],
        auto_offset_reset="earliest",
        enable_auto_commit=not manual,
        consumer_timeout_ms=args.get("timeout_ms", 10000),
        value_deserializer=lambda v: json.loads(v.decode("utf-8")),
        **common(args),
    )
    records = []
    for message in consumer:
        records.append(
            {
                "partition": message.partition,
                "offset": message.offset,
                "timestamp": message.timestamp,
                "key": None if message.key is None else message.key.decode("utf-8"),
                "value": message.value,
            }
        )
    if manual:
        consumer.commit()
    partitions = consumer.partitions_for_topic(args["topic"]) or set()
    committed = {str(p): consumer.committed(TopicPartition(args["topic"], p)) for p in sorted(partitions)}
    version = consumer.config["api_version"]
    consumer.close(autocommit=not manual)
    return {"apiVersion": list(version), "records": records, "committed": committed}


def admin(args):
    client = KafkaAdminClient(**common(args))
    created = [NewTopic(name=name, num_partitions=args["partitions"], replication_factor=1) for name in args["create"]]
    client.create_topics(new_topics=created, validate_only=False)
    try:
        client.create_topics(new_topics=[created[0]], validate_only=False)
        twice = "no error"
    except TopicAlreadyExistsError as err:
        twice = type(err).__name__
    after_create = sorted(client.list_topics())
    client.delete_topics(args["delete"])
    after_delete = sorted(client.list_topics())
    version = client.config["api_version"]
    client.close()
    return {
        "apiVersion": list(version),
        "createdTwice": twice,
        "afterCreate": after_create,
        "afterDelete": after_delete,
    }


def offsets_for_times(args):
    consumer = KafkaConsumer(**common(args))
    partitions = [TopicPartition(args["topic"], p) for p in sorted(consumer.partitions_for_topic(args["topic"]))]
    found = consumer.offsets_for_times({tp: args["timestamp"] for tp in partitions})
    beginning = consumer.beginning_offsets(partitions)
    end = consumer.end_offsets(partitions)
    version = consumer.config["api_version"]
    consumer.close()
    return {
        "apiVersion": list(version),
        "found": {
            str(tp.partition): None if at is None else {"offset": at.offset, "timestamp": at.timestamp}
            for tp, at in found.items()
        },
        "beginning": {str(tp.partition): offset for tp, offset in beginning.items()},
        "end": {str(tp.partition): offset for tp, offset in end.items()},
    }


COMMANDS = {"produce": produce, "consume": consume, "admin": admin, "offsets_for_times": offsets_for_times}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: kafka_python_clients.py %s < args.json" % "|".join(COMMANDS))
    result = COMMANDS[sys.argv[1]](json.load(sys.stdin))
    sys.stdout.write(json.dumps(result) + "\n")
