"""Webhook mode (`consultation-bot run --webhook`): the HTTP server that stores updates, and the processor that
applies them in order."""
