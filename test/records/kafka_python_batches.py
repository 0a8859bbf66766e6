"""Cross-check helper for kafka-python.test.ts: kafka-python (2.0.2) builds and reads RecordBatch v2.

Commands (JSON on stdin/stdout, bytes as base64):
  check    prints which codec libraries kafka-python sees
  build    builds batches with DefaultRecordBatchBuilder and prints them with the records put in
  read     reads {"batches": [b64...]} with DefaultRecordBatch (validate_crc, iterate) and prints them
  murmur2  hashes {"keys": [b64...]} with kafka-python's murmur2 (unsigned 32-bit)
"""

import base64
import json
import sys

import kafka.codec as codec
import kafka.record.default_records as default_records
from kafka.partitioner.default import murmur2
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

BASE_TIMESTAMP = 1_700_000_000_000


def b64(data):
    return None if data is None else base64.b64encode(bytes(data)).decode("ascii")


def unb64(text):
    return None if text is None else base64.b64decode(text)


def sample_records(count):
    """Keys, null keys and values, empty ones, headers and out-of-order timestamps."""
    records = []
    for i in range(count):
        key = ("key-%d" % i).encode()
        value = json.dumps({"id": i, "name": "user-%d" % (i % 7), "tags": ["a", "b", "c"] * 3}).encode()
        headers = [("trace-id", ("t-%d" % i).encode()), ("null-header", None), ("ünï", b"\x00\xff")]
        timestamp = BASE_TIMESTAMP + i * 13
        if i == 1:
            key, value, headers = None, None, []  # a tombstone without key
        elif i == 2:
            key, value = b"", b""
            timestamp = BASE_TIMESTAMP - 5_000  # before the first record: a negative delta
        records.append({"key": key, "value": value, "headers": headers, "timestamp": timestamp})
    return records


def build_case(name, compression, transactional=False, count=12):
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=compression,
        is_transactional=transactional,
        producer_id=4242,
        producer_epoch=7,
        base_sequence=100,
        batch_size=1 << 20,
    )
    records = sample_records(count)
    for offset, record in enumerate(records):
        meta = builder.append(
            offset, timestamp=record["timestamp"], key=record["key"], value=record["value"], headers=record["headers"]
        )
        assert meta is not None, "batch full"
    batch = bytes(builder.build())
    return {
        "name": name,
        "compression": compression,
        "transactional": transactional,
        "producerId": 4242,
        "producerEpoch": 7,
        "baseSequence": 100,
        "batch": b64(batch),
        "records": [
            {
                "offset": offset,
                "timestamp": record["timestamp"],
                "key": b64(record["key"]),
                "value": b64(record["value"]),
                "headers": [[k, b64(v)] for k, v in record["headers"]],
            }
            for offset, record in enumerate(records)
        ],
    }


def build():
    cases = []
    for compression, name in ((0, "none"), (1, "gzip"), (2, "snappy-xerial"), (3, "lz4"), (4, "zstd")):
        cases.append(build_case(name, compression))
    cases.append(build_case("zstd-transactional", 4, transactional=True))
    cases.append(build_case("single-record", 0, count=1))

    # librdkafka writes raw snappy and linked LZ4 blocks; kafka-python can be made to do the same.
    original_snappy, original_lz4 = default_records.snappy_encode, default_records.lz4_encode
    try:
        default_records.snappy_encode = lambda payload: codec.snappy_encode(payload, xerial_compatible=False)
        cases.append(build_case("snappy-raw", 2))
        import lz4.frame

        default_records.lz4_encode = lambda payload: lz4.frame.compress(payload, block_linked=True)
        cases.append(build_case("lz4-linked", 3, count=600))
    finally:
        default_records.snappy_encode, default_records.lz4_encode = original_snappy, original_lz4
    return {"cases": cases}


def read(request):
    out = []
    for text in request["batches"]:
        data = base64.b64decode(text)
        batch = DefaultRecordBatch(data)
        header = DefaultRecordBatch.HEADER_STRUCT.unpack_from(data)
        crc_ok = batch.validate_crc()
        records = [
            {
                "offset": r.offset,
                "timestamp": r.timestamp,
                "timestampType": r.timestamp_type,
                "key": b64(r.key),
                "value": b64(r.value),
                "headers": [[k, b64(v)] for k, v in r.headers],
            }
            for r in batch
        ]
        out.append(
            {
                "crcOk": crc_ok,
                "baseOffset": header[0],
                "batchLength": header[1],
                "partitionLeaderEpoch": header[2],
                "magic": header[3],
                "attributes": header[5],
                "lastOffsetDelta": header[6],
                "firstTimestamp": header[7],
                "maxTimestamp": header[8],
                "producerId": header[9],
                "producerEpoch": header[10],
                "baseSequence": header[11],
                "recordCount": header[12],
                "compressionType": batch.compression_type,
                "timestampType": batch.timestamp_type,
                "isTransactional": batch.is_transactional,
                "isControl": batch.is_control_batch,
                "records": records,
            }
        )
    return {"batches": out}


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "check":
        result = {c: getattr(codec, "has_" + c)() for c in ("gzip", "snappy", "lz4", "zstd")}
    elif command == "build":
        result = build()
    elif command == "read":
        result = read(json.load(sys.stdin))
    elif command == "murmur2":
        result = {"hashes": [murmur2(unb64(k)) for k in json.load(sys.stdin)["keys"]]}
    else:
        sys.exit("usage: kafka_python_batches.py check|build|read|murmur2")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
