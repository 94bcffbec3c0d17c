"""The openai-package drop-in client over the provider."""
