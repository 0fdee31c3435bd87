"""deliveryhub: the open-source hub for e-commerce delivery and customer-service operations."""

__version__ = "0.1.0"
