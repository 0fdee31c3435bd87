"""Bus adapters behind one port: in-process (default) and NATS JetStream."""
