# LiteLLM proxy with the Codex provider. Build: docker build -t codex-litellm .
# Run (the Codex home must be mounted READ-WRITE, see docs/deployment.md):
#   docker run --rm -p 4000:4000 -e LITELLM_MASTER_KEY=sk-... \
#     -v "$HOME/.codex:/codex" -e CODEX_HOME=/codex codex-litellm
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True CODEX_HOME=/codex CODEX_CACHE_DIR=/cache

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY scripts/stacks ./scripts/stacks
# The newest stack CI tests (scripts/stacks/): LiteLLM and its proxy's dependencies at tested versions.
RUN pip install --no-cache-dir -c scripts/stacks/newest.txt '.[zstd,redis]' -r scripts/stacks/newest-proxy.txt \
    && mkdir -p /codex /cache
COPY litellm_config.yaml ./

EXPOSE 4000
CMD ["litellm", "--config", "/app/litellm_config.yaml", "--host", "0.0.0.0", "--port", "4000"]
