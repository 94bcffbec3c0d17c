"""The supported LiteLLM and openai range: the pins, the tested stacks, and what differs between the ends.

CI runs the whole suite on both ends (scripts/stacks/); these tests pin what the range itself
promises: the versions written in three places agree, the CLI starts without LiteLLM, a LiteLLM
that no longer takes a refinement still works, and the handler LiteLLM routes to is the one whose
calls get the Codex adjustments, whichever entry of `custom_provider_map` this LiteLLM picks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import litellm
import pytest
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import ModelResponse
from packaging.requirements import Requirement
from packaging.version import Version

from litellm_codex_oauth_provider import versions
from litellm_codex_oauth_provider.litellm_glue import patches
from litellm_codex_oauth_provider.testing.fake_codex import HttpError

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("codex-litellm")
MESSAGES = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "hi"}]


def _stack(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / "scripts" / "stacks" / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            pins[requirement.name] = str(requirement.specifier).removeprefix("==")
    return pins


def _pyproject_requirements() -> dict[str, Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {Requirement(line).name: Requirement(line) for line in data["project"]["dependencies"]}


# --------------------------------------------------------------------------- one range, written once


def test_the_tested_stacks_are_the_ends_of_the_pinned_range():
    pinned = _pyproject_requirements()
    oldest, newest = _stack("oldest"), _stack("newest")
    for name in ("litellm", "openai"):
        assert versions.TESTED[name] == (oldest[name], newest[name])
        assert str(pinned[name].specifier) == str(Requirement(versions.REQUIREMENTS[name]).specifier)
        for end in (oldest[name], newest[name]):
            assert pinned[name].specifier.contains(Version(end)), (name, end)
    assert not pinned["litellm"].specifier.contains(Version("1.107.0"))  # compromised, pulled
    assert not pinned["litellm"].specifier.contains(Version("1.107.3"))
    assert pinned["openai"].specifier.contains(Version("2.54.0"))
    assert pinned["openai"].specifier.contains(Version("3.0.0"))


def test_the_installed_stack_is_one_of_the_tested_ends():
    """This run tests what it claims to: the venv holds one of the two stacks, exactly."""
    installed = {name: versions.installed_version(name) for name in ("litellm", "openai")}
    ends = [{name: pins[name] for name in installed} for pins in (_stack("oldest"), _stack("newest"))]
    assert installed in ends, f"{installed} is neither stack in scripts/stacks/: run scripts/setup.sh"


# --------------------------------------------------------------------------- a light CLI


@pytest.mark.parametrize("argument", ["--help", "--version"])
def test_the_console_script_answers_help_and_version_without_importing_litellm_or_openai(argument):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(CLI), argument],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "codex-litellm" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "litellm_codex_oauth_provider.cli.main" in imported  # the real console script ran
    assert not {m for m in imported if m.split(".")[0] in ("litellm", "openai")}


def test_the_package_imports_litellm_only_when_the_provider_is_used():
    code = textwrap.dedent(
        """
        import sys
        import litellm_codex_oauth_provider as package
        light = "litellm" not in sys.modules and "openai" not in sys.modules
        provider = package.codex_auth_provider
        print(light, type(provider).__name__, "litellm" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", "CodexAuthProvider", "True"], done.stderr[-2000:]


# --------------------------------------------------------------------------- openai 3.x error text


def test_a_400_naming_the_instructions_in_its_body_switches_to_the_codex_instructions(
    codex_home, fake, provider, monkeypatch
):
    """openai 3.x keeps only `error.message` in the exception text: the `param` decides."""
    monkeypatch.setenv("CODEX_MODE", "0")
    rejected: list[str] = []

    def handler(record):
        if record.body.get("instructions") == "Answer briefly.":
            rejected.append(record.body["instructions"])
            error = {"message": "Invalid value.", "type": "invalid_request_error", "param": "instructions"}
            return HttpError(400, {"error": error})
        return None

    fake.handler = handler
    response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    assert response.choices[0].message.content == "Hello from fake Codex"
    assert rejected == ["Answer briefly."]
    assert len(fake.requests) == 2 and fake.requests[-1].body["instructions"] != "Answer briefly."


def test_a_400_about_something_else_is_not_retried(codex_home, fake, provider, monkeypatch):
    monkeypatch.setenv("CODEX_MODE", "0")
    error = {"message": "Unsupported value.", "type": "invalid_request_error", "param": "tool_choice"}
    fake.handler = lambda record: HttpError(400, {"error": error})
    with pytest.raises(litellm.BadRequestError, match=r"Unsupported value\. \(parameter: tool_choice\)"):
        litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
    assert len(fake.requests) == 1


# --------------------------------------------------------------------------- custom_provider_map order


class RecordingLLM(CustomLLM):
    """A non-Codex handler registered under the same provider name."""

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return litellm.ModelResponse(choices=[{"message": {"role": "assistant", "content": "other"}}])


def test_only_the_handler_litellm_routes_to_gets_the_codex_adjustments(codex_home, fake, provider):
    """LiteLLM 1.106 takes the last matching entry, 1.108+ the first: follow whichever it takes."""
    other = RecordingLLM()
    codex_entry = {"provider": "codex", "custom_handler": provider}
    other_entry = {"provider": "codex", "custom_handler": other}
    answered = []
    for entries in ([other_entry, codex_entry], [codex_entry, other_entry]):
        litellm.custom_provider_map = entries
        routed = patches.routed_handler("codex")
        if routed is other:  # LiteLLM's own rule for a handler that is not Codex's: the parameter is refused
            with pytest.raises(litellm.UnsupportedParamsError, match="reasoning_effort"):
                litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, reasoning_effort="high")
            response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES)
            assert response.choices[0].message.content == "other"
        else:
            assert routed is provider
            response = litellm.completion(model="codex/gpt-5.5", messages=MESSAGES, reasoning_effort="high")
            assert response.choices[0].message.content == "Hello from fake Codex"
            assert fake.last_request.body["reasoning"]["effort"] == "high"
        answered.append(routed)
    assert set(map(id, answered)) == {id(other), id(provider)}  # each order routes to one of them


# --------------------------------------------------------------------------- a LiteLLM that moved on


_MOVED_ON = """
import json, sys
import litellm, litellm.main

# A LiteLLM whose functions the package adjusts no longer have the parameters it relies on.
_params = litellm.main.get_optional_params
def get_optional_params(*args, **kwargs):
    return _params(*args, **kwargs)
litellm.main.get_optional_params = get_optional_params
_dispatch = litellm.main._complete_custom_providers
def _complete_custom_providers(ctx, *more):
    return _dispatch(ctx, *more)
litellm.main._complete_custom_providers = _complete_custom_providers

from litellm_codex_oauth_provider import codex_auth_provider
from litellm_codex_oauth_provider.litellm_glue.patches import refinements

litellm.custom_provider_map = [{"provider": "codex", "custom_handler": codex_auth_provider}]
messages = [{"role": "user", "content": "hi"}]
answer = litellm.completion(model="codex/gpt-5.5", messages=messages).choices[0].message.content
streamed = "".join(
    c.choices[0].delta.content or "" for c in litellm.completion(model="codex/gpt-5.5", messages=messages, stream=True)
)
print(json.dumps({"answer": answer, "streamed": streamed, "off": [r.name for r in refinements() if not r.active]}))
print("---", flush=True)
from litellm_codex_oauth_provider.cli.main import main
main(["doctor", "--json"])
"""


def test_a_litellm_that_no_longer_takes_a_refinement_still_works_and_doctor_names_it(codex_home, fake):
    env = {**os.environ, "LITELLM_LOG": "ERROR"}
    done = subprocess.run(
        [sys.executable, "-c", _MOVED_ON], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
    )
    assert done.returncode == 1, done.stderr[-3000:]  # doctor: one check did not pass
    first, _, doctor = done.stdout.partition("---\n")
    result = json.loads(first)
    assert result["answer"] == "Hello from fake Codex"
    assert result["streamed"] == "Hello from fake Codex"
    assert result["off"] == [patches.PARAMS, patches.STREAMS]
    checks = {c["check"]: c for c in json.loads(doctor)["checks"]}
    assert checks["refinements"]["status"] == "fail"
    assert re.search(r"off on this LiteLLM: reasoning_effort and verbosity", checks["refinements"]["detail"])
    assert "plan-usage headers" in checks["refinements"]["detail"]
    assert "allowed_openai_params" in checks["refinements"]["detail"]
    assert all(c["status"] == "pass" for name, c in checks.items() if name != "refinements"), checks
    assert "this LiteLLM version leaves a refinement off" in done.stderr


def test_this_litellm_takes_every_refinement():
    from litellm_codex_oauth_provider import provider  # noqa: F401 - applies them

    assert [(r.name, r.active) for r in patches.refinements()] == [
        (patches.PARAMS, True),
        (patches.STREAMS, True),
        (patches.MODELS, True),
    ]
