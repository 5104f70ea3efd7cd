"""Webhooks: vendors and the operator register HTTPS endpoints and choose events; each matching event becomes a
delivery, sent through the outbox and signed per the Standard Webhooks specification."""
