"""Renewal reminders: e-mails to a customer's billing contacts before (and just after) a license's
maintenance or term ends, each sent once; and the opt-out of the billing contacts who do not want them."""
