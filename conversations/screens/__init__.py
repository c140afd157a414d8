"""What a tenant sees: every message and button, in the consultation's wording and Telegram's small HTML."""
