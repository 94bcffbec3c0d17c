"""The fake backend as a process: `python -m litellm_codex_oauth_provider.testing.fake_codex`.

It prints its base URL as the first line of stdout and serves until SIGTERM/SIGINT, so a
benchmark or a proxy under test can run it apart from its own CPU.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from pathlib import Path

from .scenarios import DEFAULT_TEXT, Turn
from .server import FakeCodexBackend


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a fake ChatGPT Codex backend until killed.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS choose")
    parser.add_argument("--text", default=DEFAULT_TEXT, help="the answer of every turn")
    parser.add_argument("--chunks", type=int, default=4, help="text deltas per answer")
    parser.add_argument(
        "--big-text", type=int, default=0, metavar="BYTES", help="stream a long answer instead"
    )
    parser.add_argument("--chunk-size", type=int, default=1024, help="delta size for --big-text")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before the headers")
    parser.add_argument("--first-delta-delay", type=float, default=0.0)
    parser.add_argument("--delta-delay", type=float, default=0.0)
    parser.add_argument("--check-tokens", action="store_true", help="accept only tokens this fake issued")
    parser.add_argument("--issue-login", type=Path, metavar="CODEX_HOME", help="write an accepted auth.json")
    parser.add_argument("--access-token-lifetime", type=int, default=3600)
    parser.add_argument("--record", action="store_true", help="keep every request in memory")
    return parser.parse_args(argv)


def _default_turn(args: argparse.Namespace) -> Turn:
    turn = (
        Turn().big_text(args.big_text, args.chunk_size)
        if args.big_text
        else Turn().text(args.text, chunks=args.chunks)
    )
    return turn.latency(args.latency).first_delta_delay(args.first_delta_delay).delta_delay(args.delta_delay)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the base URL as the first stdout line, then serve until SIGTERM/SIGINT."""
    args = _parse_args(argv)
    fake = FakeCodexBackend(
        host=args.host, port=args.port, check_tokens=args.check_tokens, record=args.record
    )
    fake.access_token_lifetime = args.access_token_lifetime
    fake.set_default(_default_turn(args))
    if args.issue_login:
        fake.issue_login(args.issue_login, expires_in=args.access_token_lifetime)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    with fake:
        print(fake.base_url, flush=True)
        while not stopping.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
