"""Transition campaigns: a vendor warns the customers of its direct server and Data Center licenses, well ahead
of a deadline, that their licenses move to the marketplace, sends each one its migration quote with reminders,
and follows who has moved."""
