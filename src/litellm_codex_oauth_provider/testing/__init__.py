"""Test tools that ship with the package: a fake Codex backend, Codex CLI logins, a real redis-server.

For this project's tests and benchmarks, and for anyone testing code built on the provider
without reaching chatgpt.com. The provider never imports this package; the fake needs the
`testing` extra (aiohttp), the Redis server the `redis` extra and `redis-server` on PATH.
"""
