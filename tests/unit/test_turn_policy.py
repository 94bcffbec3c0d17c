"""The turn policy on its own: its flows are driven by hand here, with no client and no socket."""

from __future__ import annotations

import httpx
import openai
import pytest

from litellm_codex_oauth_provider.drive import run
from litellm_codex_oauth_provider.exceptions import CodexStreamError
from litellm_codex_oauth_provider.models.catalog import bundled_catalog
from litellm_codex_oauth_provider.retries import RetryBudget
from litellm_codex_oauth_provider.turn import (
    GetCatalog,
    GetFallback,
    InstructionsPolicy,
    Read,
    Send,
    Turn,
    Wait,
)

MESSAGES = [{"role": "user", "content": "hi"}]


def make_turn(*, retries: int = 2, instructions: InstructionsPolicy | None = None) -> Turn:
    return Turn(
        model="gpt-5.5",
        base_url="https://codex.invalid",
        messages=MESSAGES,
        optional_params={},
        litellm_params={},
        timeout=None,
        pool=None,  # type: ignore[arg-type] - the policy never touches the pool; its driver does
        instructions=instructions or InstructionsPolicy(),
        known=bundled_catalog(),
        budget=RetryBudget(retries),
    )


def status_error(status: int, body: dict) -> openai.APIStatusError:
    request = httpx.Request("POST", "https://codex.invalid/responses")
    response = httpx.Response(status, json=body, request=request)
    kind = openai.BadRequestError if status == 400 else openai.InternalServerError
    return kind("refused", response=response, body=body)


class Script:
    """A `perform` that answers each step from a list and records the steps it was asked for."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.steps: list[object] = []

    def __call__(self, step: object) -> object:
        self.steps.append(step)
        if isinstance(step, GetCatalog):
            return bundled_catalog()
        if isinstance(step, GetFallback):
            return "CODEX PROMPT"
        if isinstance(step, Wait):
            return None
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_400_about_the_instructions_sends_once_more_with_the_codex_prompt() -> None:
    policy = InstructionsPolicy()
    rejected = status_error(400, {"detail": "Instructions are not valid"})
    script = Script(rejected, "stream")
    stream, req = run(make_turn(instructions=policy).open_flow(), script)
    assert req.body["instructions"] == "CODEX PROMPT"
    assert stream == "stream"
    sends = [s for s in script.steps if isinstance(s, Send)]
    assert len(sends) == 2
    assert sends[1].body["instructions"] == "CODEX PROMPT"
    assert policy.forced("gpt-5.5")  # later calls start with the Codex prompt
    with pytest.raises(openai.BadRequestError):  # once only
        run(make_turn(instructions=policy).open_flow(), Script(rejected))


def test_an_http_answer_is_never_sent_again_by_the_turn() -> None:
    turn = make_turn()
    assert turn.resend_delay(status_error(500, {"error": {"message": "boom"}}), 0) is None
    assert turn.budget.left == 2


def test_a_turn_that_broke_off_is_sent_again_while_the_budget_lasts() -> None:
    turn = make_turn(retries=1)
    cut = CodexStreamError("stream_incomplete", "closed early")
    assert turn.resend_delay(cut, 0, sent=True) is None  # a chunk is out: only an error is honest
    assert turn.resend_delay(cut, 0) is not None
    assert turn.resend_delay(cut, 1) is None  # the budget is spent
    assert turn.resend_delay(httpx.ReadTimeout("slow"), 0) is None  # a timeout would wait again


def test_the_complete_flow_reads_again_after_a_cut_and_returns_the_read() -> None:
    turn = make_turn()
    flow = turn.complete_flow()
    reads = []

    def perform(step: object) -> object:
        if isinstance(step, Read):
            reads.append(step)
            if len(reads) == 1:
                raise CodexStreamError("stream_incomplete", "closed early")
            step.translator.handle({"type": "response.completed", "response": {"id": "r", "output": []}})
            return None
        return Script("stream")(step)

    read = run(flow, perform)
    assert read is reads[1] and read.translator.done
    assert turn.budget.left == 1
