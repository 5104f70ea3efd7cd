"""The vendors' money: the revenue ledger, monthly statements and payouts."""
