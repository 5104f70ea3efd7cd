"""The test clock: a deployment-wide "now" that demos, tests and support can move, off unless enabled."""
