"""Models: what the backend's models are and where their facts come from.

`catalog` (the catalog and one model's facts, no I/O) · `catalog_store` (the live catalog with its
disk cache) · `prompts` (which instructions a turn carries) · `prompt_store` (the Codex prompt
files of old models) · `flow` (the fetch flow both stores run, sync or async) · `ids` (model ids)
· `registry` (LiteLLM's model map).
"""
