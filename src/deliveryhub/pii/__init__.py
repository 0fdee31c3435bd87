"""Personal-data primitives every layer may use: envelope encryption, blind indexes, DLP masking."""
