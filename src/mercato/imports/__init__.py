"""Imports: a vendor brings licenses it sold elsewhere into its direct channel, from a CSV file."""
