"""Where this package meets LiteLLM's internals: feature-detected adjustments."""
