"""Defaults that the command line, the runner and the app must agree on, in one place (they
drifted: the CLI and the app resumed with two different texts)."""

CONTINUE_TASK = "Continue from where you left off."
