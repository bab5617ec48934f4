"""Paths, small builders and AWS client fakes shared by the tests."""

from __future__ import annotations

import io
import pickle
import urllib.parse
import json
import zipfile
from pathlib import Path

from migration_validation import load_contracts_dir, parse_contract, validate_object

GLUE = Path(__file__).resolve().parents[1]
REPO = GLUE.parent
SAMPLES = GLUE / "samples"
CONTRACTS = GLUE / "contracts"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_CONTRACTS = FIXTURES / "contracts"


def shipped_contracts() -> list:
    return load_contracts_dir(CONTRACTS)


def all_contracts() -> list:
    return shipped_contracts() + load_contracts_dir(FIXTURE_CONTRACTS)


def contract(**overrides):
    """A CSV contract with one column per type, changed by ``overrides``."""
    doc = {
        "name": "t",
        "keys": ["incoming/t/*"],
        "format": {"type": "csv"},
        "columns": [
            {"name": "id", "type": "integer", "required": True, "unique": True},
            {"name": "code", "type": "string", "unique": True, "pattern": "[A-Z]{2}[0-9]+"},
            {"name": "amount", "type": "decimal", "range": {"min": 0, "max": 1000}},
        ],
        "max_error_ratio": 0.5,
    }
    doc.update(overrides)
    return parse_contract(doc, "test")


def run(data: bytes, contracts, key: str, partitions: int = 1, chunk_bytes: int = 1 << 20) -> dict:
    """Validate bytes through the same reader interface the job uses."""
    return validate_object(contracts, key, BytesReader(data), len(data), partitions, chunk_bytes).to_dict()


def run_file(path: Path, key: str, contracts=None, partitions: int = 1, chunk_bytes: int = 1 << 20) -> dict:
    return run(path.read_bytes(), contracts or all_contracts(), key, partitions, chunk_bytes)


class BytesReader:
    """``read(offset, length)`` over bytes, counting calls."""

    def __init__(self, data: bytes):
        self.data = data
        self.calls = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.calls.append((offset, length))
        return self.data[offset : offset + length]


def contracts_zip(*folders: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for folder in folders:
            for path in sorted(folder.glob("*.json")):
                archive.write(path, path.name)
    return buffer.getvalue()


class FakeBody:
    def __init__(self, data: bytes):
        self._stream = io.BytesIO(data)
        self.closed = False

    def read(self, amount=None):
        # Real streaming bodies may return fewer bytes than asked.
        if amount is not None:
            amount = min(amount, 7919)
        return self._stream.read(amount)

    def close(self):
        self.closed = True


class FakeS3:
    """An in-memory versioned bucket that records every call in order."""

    def __init__(self):
        self.objects = {}  # (bucket, key) -> list of (version_id, bytes, metadata)
        self.calls = []
        self._next_version = 0
        self.copy_length_override = None
        self.attributes = {}  # (bucket, key, version) -> {"Metadata", "ContentType", "TagSet"}

    def add(self, bucket: str, key: str, data: bytes) -> str:
        self._next_version += 1
        version = f"v{self._next_version}"
        self.objects.setdefault((bucket, key), []).append((version, data))
        return version

    def _get(self, bucket, key, version_id=None):
        versions = self.objects.get((bucket, key))
        if not versions:
            raise KeyError(f"NoSuchKey {bucket}/{key}")
        if version_id is None:
            return versions[-1]
        for entry in versions:
            if entry[0] == version_id:
                return entry
        raise KeyError(f"NoSuchVersion {bucket}/{key}?versionId={version_id}")

    def get_object(self, **params):
        self.calls.append(("get_object", params))
        version, data = self._get(params["Bucket"], params["Key"], params.get("VersionId"))
        if "Range" in params:
            spec = params["Range"].split("=", 1)[1]
            first, _, last = spec.partition("-")
            data = data[int(first) : int(last) + 1] if last else data[int(first) :]
        return {"Body": FakeBody(data), "VersionId": version}

    def head_object(self, **params):
        self.calls.append(("head_object", params))
        version, data = self._get(params["Bucket"], params["Key"], params.get("VersionId"))
        length = len(data)
        if self.copy_length_override is not None and params["Key"].startswith(("validated/", "quarantine/")):
            length = self.copy_length_override  # simulate a copy that is not what we copied
        attrs = self.attributes.get((params["Bucket"], params["Key"], version), {})
        head = {"ContentLength": length, "VersionId": version, "Metadata": dict(attrs.get("Metadata", {}))}
        if attrs.get("ContentType"):
            head["ContentType"] = attrs["ContentType"]
        return head

    def get_object_tagging(self, **params):
        self.calls.append(("get_object_tagging", params))
        version, _ = self._get(params["Bucket"], params["Key"], params.get("VersionId"))
        return {"TagSet": list(self.attributes.get((params["Bucket"], params["Key"], version), {}).get("TagSet", []))}

    def put_object(self, **params):
        self.calls.append(("put_object", {k: v for k, v in params.items() if k != "Body"}))
        version = self.add(params["Bucket"], params["Key"], params["Body"])
        return {"VersionId": version}

    def copy_object(self, **params):
        self.calls.append(("copy_object", params))
        source = params["CopySource"]
        version, data = self._get(source["Bucket"], source["Key"], source.get("VersionId"))
        new = self.add(params["Bucket"], params["Key"], data)
        # CopyObject copies metadata and tags by default (COPY directives).
        attrs = self.attributes.get((source["Bucket"], source["Key"], version))
        if attrs:
            self.attributes[(params["Bucket"], params["Key"], new)] = dict(attrs)
        return {"VersionId": new}

    def copy(self, source, bucket, key, ExtraArgs=None):
        """boto3's managed (multipart) copy: only what ExtraArgs gives."""
        self.calls.append(("copy", {"CopySource": source, "Bucket": bucket, "Key": key, "ExtraArgs": ExtraArgs}))
        _, data = self._get(source["Bucket"], source["Key"], source.get("VersionId"))
        new = self.add(bucket, key, data)
        extra = ExtraArgs or {}
        tags = [{"Key": k, "Value": v} for k, v in urllib.parse.parse_qsl(extra.get("Tagging", ""), keep_blank_values=True)]
        self.attributes[(bucket, key, new)] = {"Metadata": dict(extra.get("Metadata", {})), "ContentType": extra.get("ContentType"), "TagSet": tags}

    def delete_object(self, **params):
        self.calls.append(("delete_object", params))
        versions = self.objects[(params["Bucket"], params["Key"])]
        self.objects[(params["Bucket"], params["Key"])] = [v for v in versions if v[0] != params.get("VersionId")]
        return {}

    def body(self, bucket: str, key: str) -> bytes:
        return self._get(bucket, key)[1]

    def names(self) -> list:
        return [name for name, _ in self.calls]


class FakeSNS:
    def __init__(self):
        self.published = []

    def publish(self, **params):
        self.published.append(params)
        return {"MessageId": f"m{len(self.published)}"}


def message_body(published: dict) -> dict:
    return json.loads(published["Message"])


class FakeSparkContext:
    """Just enough of the RDD API for ``shuffle.run_spark``, run on lists.

    Functions and every record crossing a stage are pickled as Spark ships
    them; ``reduceByKey`` hash-partitions keys into ``n`` shuffle partitions
    and combines within each (map-side first, like Spark's combiner). The
    last ``collect()`` result is kept in ``collected``."""

    def __init__(self):
        self.collected = None
        self.tasks = []  # functions run per partition, for inspection

    def parallelize(self, items, n):
        items = list(items)
        size = max(1, -(-len(items) // n)) if items else 1
        return FakeRDD(self, [items[i : i + size] for i in range(0, len(items), size)] or [[]])


class FakeRDD:
    def __init__(self, sc, partitions):
        self.sc = sc
        self.partitions = partitions

    @staticmethod
    def _ship(obj):
        return pickle.loads(pickle.dumps(obj))

    def flatMap(self, f):
        f = self._ship(f)
        return FakeRDD(self.sc, [[self._ship(x) for item in part for x in f(item)] for part in self.partitions])

    def map(self, f):
        f = self._ship(f)
        return FakeRDD(self.sc, [[self._ship(f(item)) for item in part] for part in self.partitions])

    def reduceByKey(self, f, n):
        f = self._ship(f)
        shuffled = [dict() for _ in range(n)]
        for part in self.partitions:
            combined = {}
            for key, value in part:
                combined[key] = f(combined[key], value) if key in combined else value
            for key, value in combined.items():
                target = shuffled[hash(key) % n]
                value = self._ship(value)
                target[key] = f(target[key], value) if key in target else value
        return FakeRDD(self.sc, [list(d.items()) for d in shuffled])

    def collect(self):
        result = [self._ship(item) for part in self.partitions for item in part]
        self.sc.collected = result
        return result
