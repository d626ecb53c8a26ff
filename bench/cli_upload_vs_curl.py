"""Benchmark: ``visiona convert`` 's upload against ``curl -F`` of the same files.

visionA under gunicorn (gthread, DEBUG=0, PostgreSQL, Redis) streams each upload to
a stand-in converter that discards the body (bench/upload_proxy_memory.py's sink).
The same model and images are uploaded by the CLI (``visiona convert --no-check``,
its own process, personal token) and by ``curl -F`` with the same token, in pairs
whose order alternates (A B, B A, ...). Printed: each pair's times and CPU seconds,
the median of the per-pair ratios (CLI / curl) with min and max, the same less the
CLI's fixed start (``visiona --version``: the interpreter and its imports), the load
average, and the processes' peak RSS at two sizes to show it stays flat.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/visiona_bench \\
    REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/cli_upload_vs_curl.py
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.onnx_models import large_model_stream

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upload_proxy_memory import SINK, free_port

ROOT = Path(__file__).resolve().parent.parent
MAX_MODEL_MIB = 480
IMAGE_MIB = 9
JPEG_START = b"\xff\xd8\xff"  # how an image begins: the upload proxy checks


def make_files(folder: Path, mib: int) -> tuple[Path, list[Path]]:
    """A model of up to 480 MiB and 9 MiB images for the rest (the converter's limits)."""
    folder.mkdir(parents=True, exist_ok=True)
    model_mib = min(mib, MAX_MODEL_MIB)
    block = os.urandom(1 << 20)
    model = folder / "model.onnx"
    # A real ONNX model (the server's pre-flight refuses anything else) whose weights are
    # random bytes, as a model's are; written as a stream, never held whole.
    stream = large_model_stream(model_mib << 20, payload=(block for _ in range(model_mib)))
    with model.open("wb") as handle:
        for piece in stream:
            handle.write(piece)
    images = []
    left = mib - model_mib
    while left > 0:
        size = min(left, IMAGE_MIB)
        image = folder / f"img{len(images)}.jpg"
        image.write_bytes(JPEG_START + (block[: size << 20] if size == 1 else block * size)[3:])
        images.append(image)
        left -= size
    return model, images


def create_tokens(env: dict, count: int) -> list[str]:
    """One user per upload (each leaves an unfinished job), each with a convert token."""
    setup = (
        "from django.contrib.auth import get_user_model\n"
        "from tokens import services\n"
        "import secrets\n"
        f"for i in range({count}):\n"
        "    u = get_user_model().objects.create_user('bench-' + secrets.token_hex(6))\n"
        "    print(services.token_create(owner=u, name='bench', scopes=['convert'],"
        " expires_in_days=1).secret)\n"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", setup],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return [line for line in out.stdout.split() if line.startswith("vap_")]


def timed(command: list[str], env: dict, rss_file: Path) -> tuple[float, int, float, str]:
    """Wall time, peak RSS (KiB, from /usr/bin/time: a fork of this process would count
    this process's own memory in ru_maxrss), CPU seconds (user + system) and stdout of
    one process."""
    started = time.monotonic()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", "-o", str(rss_file), *command],
        env=env,
        capture_output=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr[-500:]}")
    rss, user, system = rss_file.read_text().split()[-3:]
    return elapsed, int(rss), float(user) + float(system), result.stdout.decode()


def cli_command(model: Path, images: list[Path]) -> list[str]:
    command = [sys.executable, "-m", "visiona_client.visiona_cli", "convert", str(model)]
    command += ["--chip", "720", "--no-check", "--json"]
    return command + (["--images", *map(str, images)] if images else [])


def curl_command(base: str, token: str, model: Path, images: list[Path]) -> list[str]:
    command = ["curl", "-sS", "--fail", "-o", "/dev/null", "-H", f"Authorization: Bearer {token}"]
    command += ["-F", "platform=720", "-F", f"model=@{model};type=application/octet-stream"]
    for image in images:
        command += ["-F", f"ref_images=@{image};type=image/jpeg"]
    return [*command, f"{base}/api/conversion/init"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=1024, help="upload size (default 1024)")
    parser.add_argument("--small-mib", type=int, default=64, help="for the RSS comparison")
    parser.add_argument("--pairs", type=int, default=6)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        sys.exit("set DATABASE_URL and REDIS_URL (production-like: PostgreSQL and Redis)")

    work = Path(tempfile.mkdtemp(prefix="visiona-bench-cli-"))
    sink_port, app_port = free_port(), free_port()
    sink_url = f"http://127.0.0.1:{sink_port}"
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "VISIONA_DATA_DIR": str(work),
        "VISIONA_SANDBOX": "0",
        "CONVERTER_BASE_URL": sink_url,
        "FAA_BASE_URL": sink_url,
        "MC_SERVICE_ISSUER": sink_url,
        "MC_SERVICE_CLIENT_ID": "bench",
        "MC_SERVICE_CLIENT_SECRET": "bench",
        "CONVERSION_MAX_UPLOAD_BYTES": str(args.mib * 2**20 + 2**20),
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    tokens = create_tokens(env, 2 * args.pairs + 2)
    sink = subprocess.Popen([python, "-c", SINK, str(sink_port)], stderr=subprocess.DEVNULL)
    app = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "visiona.wsgi",
            "-k",
            "gthread",
            "-w",
            "1",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{app_port}",
            "--log-level",
            "warning",
            "--timeout",
            "600",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{app_port}"
    client_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / "client"),
        "VISIONA_SERVER": base,
        "VISIONA_CONFIG_DIR": str(work / "config"),
        "NO_PROXY": "*",
    }
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        small = make_files(work / "small", args.small_mib)
        large = make_files(work / "large", args.mib)

        def run(kind: str, files) -> tuple[float, int, float]:
            token = tokens.pop()
            if kind == "cli":
                command, extra = cli_command(*files), {"VISIONA_TOKEN": token}
            else:
                command, extra = curl_command(base, token, *files), {}
            seconds, rss, cpu, _out = timed(command, {**client_env, **extra}, work / "rss.txt")
            return seconds, rss, cpu

        # The CLI's fixed cost: the interpreter and its imports, before any byte is sent.
        version = [sys.executable, "-m", "visiona_client.visiona_cli", "--version"]
        startup = statistics.median(
            timed(version, client_env, work / "rss.txt")[0] for _ in range(7)
        )
        small_rss = {kind: run(kind, small)[1] for kind in ("cli", "curl")}
        pairs = []
        for index in range(args.pairs):
            order = ("cli", "curl") if index % 2 == 0 else ("curl", "cli")
            times, rss, cpu = {}, {}, {}
            for kind in order:
                times[kind], rss[kind], cpu[kind] = run(kind, large)
            pairs.append(
                {
                    "first": order[0],
                    **{f"{k}_s": round(v, 2) for k, v in times.items()},
                    "ratio": round(times["cli"] / times["curl"], 3),
                    "cli_rss_kib": rss["cli"],
                    "curl_rss_kib": rss["curl"],
                    "cli_cpu_s": round(cpu["cli"], 2),
                    "curl_cpu_s": round(cpu["curl"], 2),
                }
            )
        ratios = [pair["ratio"] for pair in pairs]
        # The same, less the CLI's fixed start (interpreter and imports, measured above):
        # what the streaming itself costs against curl's.
        transfer = [(p["cli_s"] - startup) / p["curl_s"] for p in pairs]
        print(
            json.dumps(
                {
                    "upload_mib": args.mib,
                    "pairs": pairs,
                    "ratio_median": round(statistics.median(ratios), 3),
                    "ratio_min": min(ratios),
                    "ratio_max": max(ratios),
                    "cli_startup_s_median": round(startup, 3),
                    "ratio_less_startup_median": round(statistics.median(transfer), 3),
                    "ratio_less_startup_min": round(min(transfer), 3),
                    "ratio_less_startup_max": round(max(transfer), 3),
                    "cli_cpu_s_per_gib_median": round(
                        statistics.median(p["cli_cpu_s"] for p in pairs) * 1024 / args.mib, 2
                    ),
                    "curl_cpu_s_per_gib_median": round(
                        statistics.median(p["curl_cpu_s"] for p in pairs) * 1024 / args.mib, 2
                    ),
                    "cli_mib_per_s_median": round(
                        args.mib / statistics.median(p["cli_s"] for p in pairs), 1
                    ),
                    "peak_rss_mib": {
                        f"cli_{args.small_mib}_mib": round(small_rss["cli"] / 1024, 1),
                        f"cli_{args.mib}_mib": round(
                            max(p["cli_rss_kib"] for p in pairs) / 1024, 1
                        ),
                        f"curl_{args.small_mib}_mib": round(small_rss["curl"] / 1024, 1),
                        f"curl_{args.mib}_mib": round(
                            max(p["curl_rss_kib"] for p in pairs) / 1024, 1
                        ),
                    },
                    "load_average": [round(v, 2) for v in os.getloadavg()],
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        app.terminate()
        sink.terminate()
        app.wait()
        sink.wait()


if __name__ == "__main__":
    main()
