"""What customers paid and what was given back: refunds through the payments port, never more, never twice."""
