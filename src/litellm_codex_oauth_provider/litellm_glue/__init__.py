"""Where this package meets LiteLLM: feature-detected adjustments, the stream glue, LiteLLM's error classes."""
