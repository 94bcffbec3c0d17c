"""One chat call turned into one Responses request body."""
