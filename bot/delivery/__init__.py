"""How messages reach Telegram: the Bot object and its transport, rate limits, the per-chat outbox and bulk sends."""
