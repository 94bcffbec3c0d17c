"""`codex-litellm` and the plan-usage snapshot it reads.

The console script runs in subprocesses against the fake backend (started together, so the
interpreter start-up is paid once in wall time); details are checked in-process with click's
runner, and `serve` runs once, as a proxy answering the openai package.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import litellm
import openai
import pytest
from click.testing import CliRunner

from litellm_codex_oauth_provider import cli
from litellm_codex_oauth_provider import usage as usage_snapshot
from litellm_codex_oauth_provider.cli.login import LoginChoice
from litellm_codex_oauth_provider.cli.serve import configured_models, ensure_master_key, packaged_config
from litellm_codex_oauth_provider.testing.fake_codex import FakeCodexBackend, default_rate_limit_headers
from litellm_codex_oauth_provider.testing.logins import make_auth_json, read_auth_file, write_auth_json
from litellm_codex_oauth_provider.usage import SnapshotRecorder, UsageSnapshot, load_snapshot
from tests.e2e.proxy import free_port, serving

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("codex-litellm")
DOCTOR_CHECKS = [
    "login file",
    "file mode",
    "JSON",
    "tokens",
    "JWT",
    "token",
    "backend",
    "LiteLLM",
    "openai",
    "refinements",
]
MESSAGES = [{"role": "user", "content": "hi"}]
TOKEN_SHAPE = re.compile(r"eyJ[\w-]+\.[\w-]+")


def cli_env(tmp: Path, fake: FakeCodexBackend, **extra: Path | str) -> dict[str, str]:
    """The environment of a user whose home is `tmp`, with the backend and token URL on the fake."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_") and k != "LITELLM_MASTER_KEY"}
    env.update(
        HOME=str(tmp / "user"),
        XDG_CONFIG_HOME=str(tmp / "user" / ".config"),
        XDG_CACHE_HOME=str(tmp / "user" / ".cache"),
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_LOG="ERROR",
        COLUMNS="160",
        CODEX_API_BASE=fake.base_url,
        CODEX_REFRESH_TOKEN_URL_OVERRIDE=fake.token_url,
        CODEX_INSTRUCTIONS_URL="http://127.0.0.1:9/none",
        CODEX_MAX_RETRIES="0",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def secrets_of(home: Path) -> list[str]:
    tokens = read_auth_file(home)["tokens"]
    return [tokens["access_token"], tokens["refresh_token"], tokens["id_token"]]


# --------------------------------------------------------------------------- the console script


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """status, models --json, doctor (good login) and doctor (broken login), run at once."""
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: run `.venv/bin/pip install -e .` to install the console script")
    tmp = tmp_path_factory.mktemp("cli-runs")
    with FakeCodexBackend() as fake:
        good = tmp / "good-home"
        fake.issue_login(good)
        broken = tmp / "broken-home"
        broken.mkdir()
        (broken / "auth.json").write_text('{"tokens": ', encoding="utf-8")
        (broken / "auth.json").chmod(0o644)
        cache = tmp / "cache"
        usage_snapshot.write_snapshot(cache / "usage.json", fake.rate_limit_headers)
        commands = {
            "status": (["status"], good),
            "models_json": (["models", "--json"], good),
            "doctor_good": (["doctor"], good),
            "doctor_broken": (["doctor"], broken),
        }
        procs = {
            name: subprocess.Popen(
                [str(CLI), *args],
                env=cli_env(tmp / name, fake, CODEX_HOME=home, CODEX_CACHE_DIR=cache),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, (args, home) in commands.items()
        }
        results = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=300)
            results[name] = SimpleNamespace(code=proc.returncode, out=out, err=err)
        yield SimpleNamespace(fake=fake, good=good, broken=broken, **results)


def test_status_in_a_subprocess(runs):
    result = runs.status
    assert result.code == 0, result.err
    out = result.out
    assert str(runs.good / "auth.json") in out
    for fact in ("acct-123", "plus", "user@example.com", "0600 (safe"):
        assert fact in out
    assert re.search(r"access token\s+expires \d{4}-\d\d-\d\d .*\(in \d+ min\)", out)
    assert re.search(r"primary\s+5 h window\s+█+░+\s+12% used\s+resets .*\(in", out)
    assert re.search(r"secondary\s+7 d window\s+█+░+\s+34% used\s+resets .*\(in 3 d\)", out)
    for secret in secrets_of(runs.good):
        assert secret not in out and secret not in result.err
    assert not TOKEN_SHAPE.search(out)


def test_models_json_in_a_subprocess(runs):
    result = runs.models_json
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["source"] in ("live", "cache")
    models = {m["slug"]: m for m in data["models"]}
    assert models["gpt-5.5"] == {
        "id": "codex/gpt-5.5",
        "slug": "gpt-5.5",
        "display_name": "GPT-5.5",
        "efforts": ["low", "medium", "high", "xhigh"],
        "default_effort": "medium",
        "context_window": 272000,
        "max_output_tokens": None,
        "image_input": True,
        "fast": True,
        "listed": True,
    }
    assert runs.fake.models_requests >= 1


def doctor_lines(out: str) -> list[tuple[str, str]]:
    return re.findall(
        r"^\[(PASS|FAIL|SKIP)\] (login file|file mode|JSON|tokens|JWT|token|backend|LiteLLM|openai|refinements) ",
        out,
        re.M,
    )


def test_doctor_with_a_good_login_in_a_subprocess(runs):
    result = runs.doctor_good
    assert result.code == 0, result.out + result.err
    assert doctor_lines(result.out) == [("PASS", name) for name in DOCTOR_CHECKS]
    assert "all checks passed" in result.out and "fix:" not in result.out


def test_doctor_with_a_broken_login_in_a_subprocess(runs):
    result = runs.doctor_broken
    assert result.code == 1
    assert doctor_lines(result.out) == [
        ("PASS", "login file"),
        ("FAIL", "file mode"),
        ("FAIL", "JSON"),
        ("SKIP", "tokens"),
        ("SKIP", "JWT"),
        ("SKIP", "token"),
        ("SKIP", "backend"),
        ("PASS", "LiteLLM"),
        ("PASS", "openai"),
        ("PASS", "refinements"),
    ]
    assert f"fix: chmod 600 {runs.broken / 'auth.json'}" in result.out
    assert "fix: Run `codex login`" in result.out
    assert "6 of 10 checks did not pass" in result.out


# --------------------------------------------------------------------------- serve


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """`codex-litellm serve` on a free port against the fake, without LITELLM_MASTER_KEY (it makes one)."""
    tmp = tmp_path_factory.mktemp("serve")
    log = tmp / "serve.log"
    with FakeCodexBackend() as fake:
        home = tmp / "home"
        fake.issue_login(home)
        port = free_port()
        key_file = tmp / "private" / "master-key"
        cache = tmp / "cache"
        env = cli_env(tmp, fake, CODEX_HOME=home, CODEX_CACHE_DIR=cache)
        command = [str(CLI), "serve", "--port", str(port), "--master-key-file", str(key_file)]
        with serving(command, port=port, env=env, cwd=tmp, log=log, startup_timeout=180) as url:
            yield SimpleNamespace(fake=fake, url=url, port=port, key_file=key_file, log=log, cache=cache)


@pytest.mark.e2e
def test_serve_makes_a_private_key_and_says_where_it_listens(served):
    key = served.key_file.read_text().strip()
    assert key.startswith("sk-") and len(key) > 40
    assert stat.S_IMODE(served.key_file.stat().st_mode) == 0o600
    text = served.log.read_text(errors="replace")
    assert f"http://127.0.0.1:{served.port}/v1" in text
    assert f"127.0.0.1:{served.port}" in text
    assert "codex/gpt-5.5" in text and "codex/*" in text
    assert str(served.key_file) in text and key not in text  # where the key is, never the key


@pytest.mark.e2e
def test_serve_answers_the_openai_package(served):
    key = served.key_file.read_text().strip()
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=key, max_retries=0)
    response = client.chat.completions.create(model="codex/gpt-5.5", messages=MESSAGES)
    assert response.choices[0].message.content == "Hello from fake Codex"
    chunks = list(client.chat.completions.create(model="codex/gpt-5.5-high", messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from fake Codex"
    assert served.fake.last_request.body["reasoning"]["effort"] == "high"
    assert "codex/gpt-5.5" in {m.id for m in client.models.list()}
    with pytest.raises(openai.APIStatusError):  # the master key is enforced (LiteLLM answers 400/401)
        openai.OpenAI(base_url=served.url + "/v1", api_key="sk-wrong", max_retries=0).models.list()


@pytest.mark.e2e
def test_serve_keeps_the_usage_snapshot_of_its_answers(served):
    key = served.key_file.read_text().strip()
    openai.OpenAI(base_url=served.url + "/v1", api_key=key, max_retries=0).chat.completions.create(
        model="codex/gpt-5.5", messages=MESSAGES
    )
    deadline = time.monotonic() + 10
    while (snapshot := load_snapshot(served.cache / "usage.json")) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert snapshot is not None, "the proxy did not write the usage snapshot"
    assert snapshot.window("primary").used_percent == 12.0


# --------------------------------------------------------------------------- in-process details


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli.main, list(args), env={"COLUMNS": "160"}, catch_exceptions=False)


@pytest.mark.parametrize("command", [[], ["status"], ["models"], ["doctor"], ["serve"]])
def test_every_command_has_help_with_the_exit_codes(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Exit codes:" in result.output
    assert "3  no usable Codex login" in result.output


def test_status_without_a_login_exits_3(tmp_path):
    result = invoke("--codex-home", str(tmp_path / "nobody"), "status")
    assert result.exit_code == cli.EXIT_NO_LOGIN
    assert "No Codex login found" in result.output


def test_the_global_options_choose_the_login_without_touching_the_environment(tmp_path, fake, monkeypatch):
    home = tmp_path / "home"
    fake.issue_login(home)
    monkeypatch.setenv("CODEX_AUTH_FILE", str(tmp_path / "elsewhere.json"))
    before = dict(os.environ)
    result = invoke("--codex-home", str(home), "status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["auth_file"] == str(home / "auth.json")  # the explicit home wins
    result = invoke("--auth-file", str(home / "auth.json"), "--codex-home", str(tmp_path), "doctor", "--json")
    assert json.loads(result.output)["checks"][0]["detail"].startswith(str(home / "auth.json"))
    assert dict(os.environ) == before


def test_serve_hands_the_chosen_login_to_the_proxy_as_settings(tmp_path):
    home, file = tmp_path / "home", tmp_path / "auth.json"
    assert LoginChoice().environment() == {}
    assert LoginChoice(codex_home=home).environment() == {"CODEX_AUTH_FILE": None, "CODEX_HOME": str(home)}
    assert LoginChoice(auth_file=file, codex_home=home).environment() == {
        "CODEX_AUTH_FILE": str(file),
        "CODEX_HOME": str(home),
    }


def test_status_json_after_a_real_call(codex_home, fake, provider):
    litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    usage_snapshot.flush()
    result = invoke("status", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["account_id"] == "acct-123" and data["plan"] == "plus" and data["email"] == "user@example.com"
    assert data["file_mode"] == "0600" and data["file_mode_safe"] is True
    assert data["usage"]["primary"]["used_percent"] == 12.0
    assert data["usage"]["secondary"]["window_minutes"] == 10080
    assert data["usage"]["credits"] == {"has_credits": False, "unlimited": False, "balance": "0"}
    for secret in secrets_of(codex_home):
        assert secret not in result.output


def test_status_warns_about_an_unsafe_mode_and_an_expired_token(tmp_path, fake):
    home = tmp_path / "home"
    write_auth_json(home, make_auth_json(expires_in=-600))
    (home / "auth.json").chmod(0o644)
    result = invoke("--codex-home", str(home), "status")
    assert result.exit_code == 0
    assert "0644 (UNSAFE" in result.output
    assert "expired" in result.output and "ago" in result.output
    assert "nothing recorded yet" in result.output


def test_status_shows_a_window_that_reset_since_the_snapshot(codex_home):
    headers = default_rate_limit_headers(now=time.time() - 7200)  # primary reset an hour ago
    usage_snapshot.write_snapshot(usage_snapshot.snapshot_path(), headers, recorded_at=time.time() - 7200)
    result = invoke("status")
    assert re.search(r"primary .* reset since", result.output)
    assert re.search(r"secondary .* 34% used", result.output)


def test_models_without_a_login_exits_3(tmp_path):
    result = invoke("--codex-home", str(tmp_path / "nobody"), "models")
    assert result.exit_code == cli.EXIT_NO_LOGIN


def test_models_when_the_backend_is_unreachable_exits_4_with_the_bundled_catalog(codex_home):
    result = invoke("models", "--json")  # conftest points CODEX_API_BASE at a closed port
    assert result.exit_code == cli.EXIT_UNREACHABLE
    data = json.loads(result.stdout)
    assert data["source"] == "bundled" and data["models"]
    assert "could not be reached" in result.stderr


def test_models_table(codex_home, fake):
    result = invoke("models")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if " gpt-5.5 " in line)
    assert re.search(r"low medium\* high xhigh\s.*272,000\s.*yes\s.*yes", row)
    assert "codex-auto-review" not in result.output  # hidden unless --all
    assert "* default effort" in result.output


def test_models_all_and_refresh(codex_home, fake):
    assert invoke("models").exit_code == 0
    result = invoke("models", "--all", "--refresh", "--json")
    assert result.exit_code == 0
    slugs = {m["slug"]: m["listed"] for m in json.loads(result.output)["models"]}
    assert slugs["codex-auto-review"] is False
    assert fake.models_requests == 2  # --refresh asked again although the cache was fresh


def test_doctor_refreshes_an_expired_token(tmp_path, fake):
    home = tmp_path / "home"
    fake.issue_login(home, expires_in=-60)
    old = read_auth_file(home)["tokens"]["refresh_token"]
    result = invoke("--codex-home", str(home), "doctor")
    assert result.exit_code == 0, result.output
    assert re.search(r"^\[PASS\] token\s+refreshed, expires in", result.output, re.M)
    assert read_auth_file(home)["tokens"]["refresh_token"] != old
    assert fake.refresh_requests == 1


def test_doctor_reports_a_refused_refresh_with_the_fix(tmp_path, fake):
    home = tmp_path / "home"
    write_auth_json(home, make_auth_json(expires_in=-60, refresh_token="rt-unknown"))
    result = invoke("--codex-home", str(home), "doctor", "--json")
    assert result.exit_code == cli.EXIT_FAILED
    checks = {c["check"]: c for c in json.loads(result.output)["checks"]}
    assert [c for c in checks] == DOCTOR_CHECKS
    assert checks["token"]["status"] == "fail" and "codex login" in checks["token"]["fix"]
    assert checks["backend"]["status"] == "skip"


def test_doctor_reports_an_unreachable_backend(codex_home, fake):
    fake.models_status = 500
    result = invoke("doctor")
    assert result.exit_code == cli.EXIT_FAILED
    assert re.search(r"^\[FAIL\] backend .*HTTP 500", result.output, re.M)
    assert "[PASS] token" in result.output


@pytest.mark.parametrize(
    ("name", "version", "words", "fix"),
    [
        (
            "litellm",
            "1.200.0",
            r"LiteLLM\s+1\.200\.0 is newer than the LiteLLM releases this package supports",
            "pip install 'litellm",
        ),
        (
            "litellm",
            "1.107.0",
            r"LiteLLM\s+1\.107\.0: do not use it: 1\.107\.\* was a compromised release",
            "pip install 'litellm",
        ),
        (
            "litellm",
            "1.105.3",
            r"LiteLLM\s+1\.105\.3 is older than 1\.106\.2, the oldest LiteLLM",
            "upgrade it: pip install",
        ),
        (
            "openai",
            "1.99.0",
            r"openai\s+1\.99\.0 is older than 2\.45\.0, the oldest openai",
            "upgrade it: pip install 'openai<4,>=2.45'",
        ),
    ],
)
def test_doctor_says_why_a_version_is_not_supported(codex_home, fake, monkeypatch, name, version, words, fix):
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda n: version if n == name else real(n))
    result = invoke("doctor")
    assert result.exit_code == cli.EXIT_FAILED
    assert re.search(rf"^\[FAIL\] {words}", result.output, re.M), result.output
    assert f"fix: {fix}" in result.output


@pytest.mark.parametrize(
    ("litellm", "openai_version"), [("1.106.2", "2.45.0"), ("1.110.2", "3.57.0"), ("1.108.5", "3.0.0")]
)
def test_doctor_passes_the_supported_range_in_words(codex_home, fake, monkeypatch, litellm, openai_version):
    real = importlib.metadata.version
    fakes = {"litellm": litellm, "openai": openai_version}
    monkeypatch.setattr(importlib.metadata, "version", lambda n: fakes.get(n) or real(n))
    result = invoke("doctor")
    assert result.exit_code == cli.EXIT_OK, result.output
    assert re.search(
        rf"^\[PASS\] LiteLLM\s+{re.escape(litellm)}, supported \(tested with LiteLLM 1\.106\.2 to 1\.110\.2, except 1\.107\.\*\)",
        result.output,
        re.M,
    )
    assert re.search(
        rf"^\[PASS\] openai\s+{re.escape(openai_version)}, supported \(tested with openai 2\.45\.0 to 3\.57\.0\)",
        result.output,
        re.M,
    )


def test_doctor_reports_a_missing_login(tmp_path):
    result = invoke("--auth-file", str(tmp_path / "missing.json"), "doctor")
    assert result.exit_code == cli.EXIT_FAILED
    assert doctor_lines(result.output)[0] == ("FAIL", "login file")
    assert "fix: Run `codex login`" in result.output


def test_master_key_from_the_environment_or_made_once(tmp_path, monkeypatch):
    key_file = tmp_path / "conf" / "master-key"
    monkeypatch.setenv("LITELLM_MASTER_KEY", "sk-from-env")
    assert ensure_master_key(key_file) == ("sk-from-env", "$LITELLM_MASTER_KEY")
    assert not key_file.exists()
    monkeypatch.delenv("LITELLM_MASTER_KEY")
    key, source = ensure_master_key(key_file)
    assert source == str(key_file) and key.startswith("sk-")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert ensure_master_key(key_file) == (key, str(key_file))  # kept, not remade


def test_packaged_config_is_the_repository_config():
    root = (ROOT / "litellm_config.yaml").read_text(encoding="utf-8")
    with packaged_config() as packaged:
        assert packaged.read_text(encoding="utf-8") == root, (
            "src/litellm_codex_oauth_provider/data/litellm_config.yaml differs from litellm_config.yaml: "
            "cp litellm_config.yaml src/litellm_codex_oauth_provider/data/litellm_config.yaml"
        )
        names = configured_models(packaged)
    assert "codex/gpt-5.5" in names and "codex/*" in names


# --------------------------------------------------------------------------- the snapshot


def test_a_provider_call_saves_only_the_usage_headers(codex_home, fake, provider):
    litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    usage_snapshot.flush()
    text = usage_snapshot.snapshot_path().read_text()
    data = json.loads(text)
    assert set(data) == {"recorded_at", "headers"}
    assert data["headers"] == fake.rate_limit_headers
    assert abs(data["recorded_at"] - time.time()) < 30
    for secret in secrets_of(codex_home):
        assert secret not in text


def test_recording_is_cheap_and_never_writes_on_the_callers_thread(tmp_path, monkeypatch):
    writes: list[tuple[str, dict]] = []
    slow_write = threading.Event()

    def write(path, headers, recorded_at=None):
        slow_write.wait(0.3)  # a slow disk must not slow the caller
        writes.append((threading.current_thread().name, dict(headers)))

    monkeypatch.setattr(usage_snapshot, "write_snapshot", write)
    recorder = SnapshotRecorder(min_interval=0.5)
    path = tmp_path / "usage.json"
    headers = default_rate_limit_headers()
    started = time.perf_counter()
    assert recorder.record(headers, path) is True
    assert recorder.record(headers, path) is False  # unchanged: nothing to write
    for percent in range(13, 23):  # ten changes in a burst
        assert recorder.record({**headers, "x-codex-primary-used-percent": str(percent)}, path) is True
    assert time.perf_counter() - started < 0.1
    time.sleep(1.1)
    assert 1 <= len(writes) <= 3  # at most one write per min_interval, not one per change
    assert all(name == "codex-usage-snapshot" for name, _ in writes)
    assert writes[-1][1]["x-codex-primary-used-percent"] == "22"  # the latest values win


def test_unchanged_values_are_rewritten_after_the_refresh_interval(tmp_path):
    recorder = SnapshotRecorder(min_interval=0.0, refresh_interval=0.2)
    path = tmp_path / "usage.json"
    headers = default_rate_limit_headers()
    assert recorder.record(headers, path)
    assert not recorder.record(headers, path)
    time.sleep(0.25)
    assert recorder.record(headers, path)
    recorder.flush()
    assert load_snapshot(path).headers == headers


def test_an_answer_without_codex_headers_records_nothing():
    assert usage_snapshot.record({"content-type": "text/event-stream"}) is False


def test_snapshot_parsing():
    now = 1_800_000_000.0
    snapshot = UsageSnapshot(
        now,
        {
            "x-codex-primary-used-percent": "87.5",
            "x-codex-primary-window-minutes": "300",
            "x-codex-primary-reset-after-seconds": "600",  # older backends
            "x-codex-secondary-used-percent": "3",
            "x-codex-secondary-window-minutes": "10080",
            "x-codex-secondary-reset-at": "2027-01-15T08:00:00Z",
        },
    )
    primary, secondary = snapshot.windows
    assert (primary.used_percent, primary.window_minutes, primary.resets_at) == (87.5, 300, now + 600)
    assert secondary.resets_at == datetime(2027, 1, 15, 8, tzinfo=UTC).timestamp()
    assert not primary.reset_since(now) and primary.reset_since(now + 601)
    assert snapshot.credits is None
    assert UsageSnapshot(now, {}).windows == []


def test_load_snapshot_ignores_junk(tmp_path):
    path = tmp_path / "usage.json"
    assert load_snapshot(path) is None
    for junk in ("not json", "[]", '{"recorded_at": "x", "headers": {}}', '{"recorded_at": 1}'):
        path.write_text(junk)
        assert load_snapshot(path) is None
    path.write_text(json.dumps({"recorded_at": 5, "headers": {"x-codex-a": 1, "other": "x"}}))
    assert load_snapshot(path) == UsageSnapshot(5.0, {"x-codex-a": "1"})
