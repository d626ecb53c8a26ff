"""nginx proxying the demo device straight, as the nearest baseline a product can have.

A user never reaches a device directly: the closest real path is a reverse proxy in
front of a local upstream (device -> nginx -> client, two hops). The relayed answer
makes five (device -> agent -> nginx -> relay -> nginx -> client). This nginx uses the
same unbuffered 256 KiB reads as the shipped relay-answer location
(deploy/nginx/visiona/relay-answer.conf) and keeps its connections to the device, so
a relayed figure can be read against it as well as against direct.

    with NginxBaseline(demo_url) as baseline:
        requests.get(baseline.url("/api/system/deps"))
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from deploy.nginx_files import NGINX
from deploy.processes import free_port, listening, wait_until

CONFIG = """\
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    upstream device {{
        server {device};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://device;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_buffer_size 256k;
            proxy_buffers 4 256k;
            proxy_busy_buffers_size 256k;
        }}
    }}
}}
"""


class NginxBaseline:
    def __init__(self, device_url: str) -> None:
        self.device = urlsplit(device_url).netloc
        self.port = free_port()
        self.work = Path(tempfile.mkdtemp(prefix="nginx-baseline-"))
        self.process: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def pids(self) -> list[int]:
        """The master, then its worker."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid, *map(int, children.read_text().split())]

    def __enter__(self) -> NginxBaseline:
        config = self.work / "nginx.conf"
        config.write_text(CONFIG.format(work=self.work, device=self.device, port=self.port))
        self.process = subprocess.Popen(
            [NGINX, "-p", f"{self.work}/", "-c", str(config), "-g", "daemon off;"],
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: listening(self.port), seconds=15, what="the baseline nginx")
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.work, ignore_errors=True)
