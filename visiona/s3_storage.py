"""An S3 storage whose presigned URLs name the address browsers and devices reach.

The web app often reaches its bucket at a name of the inside (http://minio:9000) that
nobody outside can. ``public_endpoint_url`` is the address presigned URLs are made
for: by a client of that address, with the same keys, region and addressing style,
never by rewriting the host of a URL signed for the other (SigV4 signs the host, and the
bucket's server checks the one it was reached at). Every other request of the app
(writes, reads, deletes) goes to ``endpoint_url``.
"""

from __future__ import annotations

import threading
from typing import Any

from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class PublicEndpointS3Storage(S3Storage):
    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._public_clients = threading.local()

    def get_default_settings(self) -> dict[str, Any]:
        # None: presigned URLs name endpoint_url, as S3Storage's do.
        return {**super().get_default_settings(), "public_endpoint_url": None}

    def url(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        if not self.public_endpoint_url or not self.querystring_auth or self.custom_domain:
            return super().url(name, parameters, expire, http_method)
        # As S3Storage.url, with the public address's client.
        params = {
            **(parameters or {}),
            "Bucket": self.bucket_name,
            "Key": self._normalize_name(clean_name(name)),
        }
        return self._public_client().generate_presigned_url(
            "get_object",
            Params=params,
            ExpiresIn=self.querystring_expire if expire is None else expire,
            HttpMethod=http_method,
        )

    def _public_client(self) -> Any:
        # One per thread, as S3Storage keeps its connections (a boto3 session is not
        # thread-safe). It only signs: nothing of the app is sent to this address.
        client = getattr(self._public_clients, "client", None)
        if client is None:
            client = self._create_session().client(
                "s3",
                region_name=self.region_name,
                use_ssl=self.use_ssl,
                endpoint_url=self.public_endpoint_url,
                config=self.client_config,
                verify=self.verify,
            )
            self._public_clients.client = client
        return client

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_public_clients", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._public_clients = threading.local()
