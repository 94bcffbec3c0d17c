"""Logins: the auth.json file, the token endpoint, the token manager and the httpx Auth.

Bottom to top (each imports only those above it in this list):

* `record`: a login's contents (`AuthRecord`, `Credentials`, JWT claims, when to refresh);
* `login_file`: reading `auth.json` safely, where it really is, who else can touch it;
* `locks`: the Codex CLI's `flock`s; `login_state`: what one login shares in this process;
* `token_endpoint`: spending a refresh token (`RefreshPolicy`, `request_tokens`);
* `store`: the `TokenStore` interface; `file_store`, `redis_store`: the two stores;
  `stores`: the one a setting names;
* `manager`: `CodexTokenManager`, the one place that refreshes;
* `httpx_auth`: `CodexAuth`, the login on each request and the 401 retry.
"""
