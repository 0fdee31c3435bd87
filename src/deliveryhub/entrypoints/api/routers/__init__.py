"""One router per slice of the API."""
