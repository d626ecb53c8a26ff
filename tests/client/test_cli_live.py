"""``visiona`` against a live visionA with the sandbox as its upstreams: login, whoami,
convert end to end (upload, stages, download, save), jobs, models, devices, exit codes,
Ctrl-C. The models are real ONNX files (tests/onnx_models.py), since the server's upload
refuses anything else; the pre-flight is the real one, wrapped to record its calls (the
scanner has its own tests). The sandbox fails a model by its file name (net-fail-bie)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from visiona_client.visiona_cli import main as cli_main
from visiona_client.visiona_cli import output as cli_output

from conversion.models import ConversionJob
from devices import services as device_services
from models_repo.models import NefModel
from sandbox import nef
from tests import onnx_models
from tests.client.cli_helpers import Ran, RecordingChecker, _ran, run_process
from tests.client.conftest import agent_environment
from tests.e2e.conftest import sandbox  # noqa: F401  (a fixture)
from tests.models_repo.conftest import make_model  # noqa: F401  (a fixture)
from tokens import services as token_services

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def token(alice):
    return token_services.token_create(
        owner=alice, name="cli", scopes=["read", "convert", "deploy"], expires_in_days=7
    ).secret


@pytest.fixture
def env(tmp_path, live_server, sandbox, monkeypatch, token):  # noqa: F811
    values = {
        **agent_environment(tmp_path),
        "VISIONA_CONFIG_DIR": str(tmp_path / "config" / "visiona"),
        "VISIONA_SERVER": live_server.url,
        "VISIONA_TOKEN": token,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return values


@pytest.fixture
def cli(env, capsys):
    """``cli("whoami", "--json")`` in this process -> Ran."""

    def run(*arguments: str, **injected) -> Ran:
        capsys.readouterr()
        code = cli_main.main(list(arguments), **injected)
        captured = capsys.readouterr()
        return _ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    model = tmp_path / "model.onnx"
    onnx_models.save(onnx_models.model(("Relu",), weights=16 * 1024), model)
    calib = tmp_path / "calib"
    calib.mkdir()
    for index in range(3):
        (calib / f"img{index}.jpg").write_bytes(b"\xff\xd8\xff" + bytes([index + 1]) * 3000)
    (calib / "notes.txt").write_text("not an image")
    failing = tmp_path / "net-fail-bie.onnx"  # the sandbox fails it at the BIE stage
    onnx_models.save(onnx_models.model(("Relu",)), failing)
    return {"model": model, "calib": calib, "failing": failing}


def test_login_stores_the_token_privately_and_whoami_reads_it(env, tmp_path, token):
    login_env = {k: v for k, v in env.items() if k != "VISIONA_SERVER"}
    ran = run_process("login", "--server", env["VISIONA_SERVER"], env=login_env, cwd=tmp_path)
    assert ran.code == 0, ran.err
    stored = Path(env["VISIONA_CONFIG_DIR"]) / "config.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert json.loads(stored.read_text())["token"] == token
    assert token not in ran.out + ran.err

    bare = {k: v for k, v in login_env.items() if k != "VISIONA_TOKEN"}  # from the file now
    whoami = run_process("whoami", "--json", env=bare, cwd=tmp_path)
    assert whoami.code == 0, whoami.err
    assert whoami.data["user"]["username"] == "alice"
    assert whoami.data["means"] == "token"
    assert whoami.data["scopes"] == ["read", "convert", "deploy"]


def test_the_one_command_converts_and_downloads(cli, files, tmp_path, alice):
    checker = RecordingChecker()
    ran = cli(
        "convert",
        str(files["model"]),
        "--chip",
        "720",
        "--images",
        str(files["calib"]),
        "--wait",
        "--download",
        "model.nef",
        checker=checker,
    )
    assert ran.code == 0, ran.err
    assert checker.calls == [(files["model"], "720")]
    [report] = checker.reports
    assert (report.ok, report.warnings, report.summary.node_count) == (True, [], 1)
    assert "Pre-flight" not in ran.err  # a clean report is not printed
    assert "Uploading model.onnx" in ran.err
    assert "completed" in ran.out
    header = nef.parse((tmp_path / "model.nef").read_bytes())
    assert header["platform"] == "720"
    job = ConversionJob.objects.get()
    assert (job.owner, job.status, header["job_id"]) == (alice, "completed", job.job_id)
    assert not (tmp_path / "model.nef.part").exists()


def test_convert_json_with_save(cli, files):
    ran = cli(
        "convert",
        str(files["model"]),
        "--chip",
        "KL720",
        "--images",
        str(files["calib"]),
        "--save",
        "yolo-720",
        "--json",
        checker=RecordingChecker(),
    )
    assert ran.code == 0, ran.err
    assert ran.data["job"]["status"] == "completed"
    assert ran.data["model"]["name"] == "yolo-720"
    assert ran.data["preflight"]["blockers"] == []
    assert NefModel.objects.get().name == "yolo-720"


def test_a_preflight_blocker_uploads_nothing(cli, tmp_path):
    custom = onnx_models.save(
        onnx_models.model(("MyOp",), domain="com.acme"), tmp_path / "custom.onnx"
    )
    checker = RecordingChecker()
    ran = cli("convert", str(custom), "--chip", "720", "--json", checker=checker)
    assert ran.code == 2
    assert checker.calls == [(custom, "720")]
    assert ran.data["preflight"]["blockers"][0]["code"] == "custom_domain"
    assert ran.data["job"] is None
    assert (ran.data["error"]["code"], ran.data["error"]["exit_code"]) == ("preflight_failed", 2)
    assert "Pre-flight for KL720: BLOCKED" in ran.err
    assert "com.acme::MyOp" in ran.err
    assert not ConversionJob.objects.exists()


def test_warnings_are_shown_and_the_upload_goes_on(cli, tmp_path):
    # Softmax is on the KL720's CPU in Kneron's table: a warning, not a blocker.
    softmax = onnx_models.save(onnx_models.model(("Softmax",)), tmp_path / "softmax.onnx")
    ran = cli("convert", str(softmax), "--chip", "720", "--json", checker=RecordingChecker())
    assert ran.code == 0, ran.err
    assert "Pre-flight for KL720: OK" in ran.err
    assert "[cpu_operator] Softmax (1 node) runs on the KL720's CPU" in ran.err
    assert [w["code"] for w in ran.data["preflight"]["warnings"]] == ["cpu_operator"]
    assert ran.data["job"]["job_id"] == ConversionJob.objects.get().job_id


def test_the_server_refuses_a_file_that_is_not_onnx_even_without_the_check(cli, tmp_path):
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"onnx-model-bytes" * 4096)
    ran = cli("convert", str(fake), "--chip", "720", "--no-check", "--json")
    assert ran.code == 2
    assert ran.data["error"]["code"] == "validation_failed"
    assert "not an ONNX model" in ran.data["error"]["message"]
    assert not ConversionJob.objects.exists()


def test_a_failed_conversion_exits_1_with_the_message_and_hint(cli, files):
    ran = cli(
        "convert", str(files["failing"]), "--chip", "720", "--wait", checker=RecordingChecker()
    )
    assert ran.code == 1
    assert "The conversion failed" in ran.err
    assert "Hint: Use reference images" in ran.err


def test_a_read_only_token_cannot_convert(cli, files, alice, monkeypatch):
    read_only = token_services.token_create(
        owner=alice, name="ro", scopes=["read"], expires_in_days=1
    ).secret
    monkeypatch.setenv("VISIONA_TOKEN", read_only)
    ran = cli("convert", str(files["model"]), "--chip", "720", "--json", checker=RecordingChecker())
    assert ran.code == 3
    assert ran.data["error"]["code"] == "token_scope_missing"
    assert not ConversionJob.objects.exists()
    # Which scope, and where to get a token with it.
    assert "“convert” scope" in ran.data["error"]["message"]
    assert "`convert` scope" in ran.err and "/tokens/" in ran.err and "visiona login" in ran.err


def test_deploy_with_a_read_and_convert_token_names_the_deploy_scope(
    cli,
    alice,
    monkeypatch,
    make_model,  # noqa: F811 (the imported fixture)
):
    model = make_model(alice, "kept", chips=("KL720",))
    device_services.device_pair(
        code=device_services.pairing_code_create(user=alice).code,
        serial="SER-SCOPE",
        chip="KL720",
        name="bench",
        client_address="192.0.2.1",
    )
    read_convert = token_services.token_create(
        owner=alice, name="rc", scopes=["read", "convert"], expires_in_days=1
    ).secret
    monkeypatch.setenv("VISIONA_TOKEN", read_convert)
    ran = cli("deploy", str(model.pk), "--device", "bench")
    assert ran.code == 3, ran.err
    assert "“deploy” scope" in ran.err
    assert "Create one at http" in ran.err and "/tokens/ (tick `deploy`)" in ran.err


def test_a_revoked_token_exits_3(cli, alice):
    token = alice.personal_tokens.get()
    token_services.token_revoke(token=token, by=alice)
    ran = cli("whoami", "--json")
    assert ran.code == 3
    assert ran.data["error"]["code"] == "token_revoked"


def test_no_token_exits_3(cli, monkeypatch):
    monkeypatch.delenv("VISIONA_TOKEN")
    assert cli("whoami").code == 3


def test_an_unreachable_server_exits_4(cli):
    ran = cli("--server", "http://127.0.0.1:9", "whoami", "--json")
    assert ran.code == 4
    assert ran.data["error"]["code"] == "network_error"


@pytest.mark.parametrize(
    "arguments",
    [
        ["convert", "missing.onnx", "--chip", "720", "--no-check"],
        ["convert", "model.onnx", "--chip", "999"],
        ["convert", "model.onnx"],
        ["jobs", "not-a-job-id"],
        ["models", "download", "no-such-model"],
    ],
)
def test_bad_input_exits_2(cli, files, arguments):
    try:
        code = cli(*arguments).code
    except SystemExit as exit:  # argparse's own refusals
        code = exit.code
    assert code == 2


def test_ctrl_c_during_the_upload_says_nothing_was_started(cli, files, monkeypatch):
    big = onnx_models.write_large_model(files["model"].parent / "big.onnx", 8 << 20)

    def interrupt(self, done):
        if done > (1 << 20):
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_output.Progress, "update", interrupt)
    ran = cli("convert", str(big), "--chip", "720", "--no-check")
    assert ran.code == 130
    assert "No conversion was started on visionA" in ran.err
    assert not ConversionJob.objects.exists()


def test_ctrl_c_while_waiting_names_the_job_that_goes_on(cli, files, sandbox, monkeypatch):  # noqa: F811
    sandbox.SANDBOX_STAGE_SECONDS = 60

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("visiona_client.visiona_cli.waiting.time.sleep", interrupt)
    ran = cli("convert", str(files["model"]), "--chip", "720", "--wait", "--no-check")
    assert ran.code == 130
    job_id = ConversionJob.objects.get().job_id
    assert f"visiona jobs {job_id} --wait" in ran.err


def test_jobs_lists_newest_first_and_shows_one(cli, files):
    for _ in range(2):
        assert (
            cli("convert", str(files["model"]), "--chip", "720", "--wait", "--no-check").code == 0
        )
    listed = cli("jobs", "--json", "--status", "completed")
    assert listed.code == 0
    ids = [job["job_id"] for job in listed.data["jobs"]]
    assert ids == list(
        ConversionJob.objects.order_by("-created_at").values_list("job_id", flat=True)
    )
    human = cli("jobs")
    assert ids[0] in human.out and "JOB" in human.out
    one = cli("jobs", ids[0], "--json")
    assert one.code == 0 and one.data["job"]["job_id"] == ids[0]


def test_models_ls_download_rm(cli, files, tmp_path):
    assert (
        cli("convert", str(files["model"]), "--chip", "720", "--save", "m1", "--no-check").code == 0
    )
    listed = cli("models", "ls", "--json")
    assert [m["name"] for m in listed.data["models"]] == ["m1"]
    downloaded = cli("models", "download", "m1", "-o", "m1.nef", "--json")
    assert downloaded.code == 0, downloaded.err
    assert nef.parse((tmp_path / "m1.nef").read_bytes())["platform"] == "720"
    removed = cli("models", "rm", str(listed.data["models"][0]["id"]), "--json")
    assert removed.code == 0
    assert cli("models", "ls", "--json").data["models"] == []


def test_devices_lists_the_users_devices(cli, alice):
    code = device_services.pairing_code_create(user=alice).code
    device = device_services.device_pair(
        code=code, serial="SER-CLI", chip="KL720", client_address="192.0.2.1"
    ).device
    ran = cli("devices", "--json")
    assert ran.code == 0
    assert [d["id"] for d in ran.data["devices"]] == [str(device.pk)]
    assert str(device.pk) in cli("devices").out
