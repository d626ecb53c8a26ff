"""The S3 stand-in: moto's S3 served over real HTTP in a process of its own.

django-storages and boto3 talk to it as to MinIO or AWS (signed requests, multipart
uploads, ranged reads), so the S3 path of the models storage runs for real. Used by
the storage tests and, in place of the MinIO service, by the compose-stack test.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

import boto3
import pytest
import requests

from deploy.processes import free_port

ACCESS_KEY = "stand-in-access-key"
SECRET_KEY = "stand-in-secret-key"
REGION = "us-east-1"


class S3StandIn:
    def __init__(self) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not self._answers():
            assert time.monotonic() < deadline, "the S3 stand-in did not answer within 60 s"
            time.sleep(0.1)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            self.log.seek(0)
            raise AssertionError(f"the S3 stand-in exited: {self.log.read()}")
        try:
            requests.get(self.endpoint_url, timeout=2)
        except requests.ConnectionError:
            return False
        return True

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return [item["Key"] for item in listed.get("Contents", [])]

    def storage_options(self, bucket: str) -> dict:
        """The models storage's OPTIONS, as visiona/settings/web.py builds them."""
        return {
            "bucket_name": bucket,
            "endpoint_url": self.endpoint_url,
            "region_name": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "location": "models",
            "default_acl": None,
            "max_memory_size": 2_621_440,
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()


@pytest.fixture(scope="session")
def s3_stand_in():
    stand_in = S3StandIn()
    yield stand_in
    stand_in.stop()
