"""Logins: the auth.json file, the token endpoint, the token manager and the httpx Auth."""
