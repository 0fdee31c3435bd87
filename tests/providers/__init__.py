"""Local provider servers (outside systems, payments, addresses) the integration and e2e tests run against."""
