"""Security: field encryption and keys, roles and permissions, audit, DLP."""
