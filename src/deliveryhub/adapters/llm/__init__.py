"""Language-model backends (OpenAI-compatible HTTP); features consume them through their own Protocols."""
