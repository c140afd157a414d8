"""The `consultation-bot` command line: running the bot, and the tools staff and admins use around it."""
