"""Webhook mode: the server that stores before it acknowledges, the processor that applies in order."""
