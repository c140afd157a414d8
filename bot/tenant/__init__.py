"""What a tenant meets: their updates in order, one engine step each, and the handlers that turn updates into events."""
