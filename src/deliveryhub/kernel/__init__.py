"""Pure bottom layer: time, business calendar, labels, config, phone numbers, retry, rate limits."""
