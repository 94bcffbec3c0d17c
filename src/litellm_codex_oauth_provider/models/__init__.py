"""Models: the live catalog and its disk cache, Codex prompt files, model ids, LiteLLM's model map."""
