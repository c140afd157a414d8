"""What staff and admins use: their commands, who may use them, broadcasts' progress and the reminder schedule."""
