"""The transactional outbox: side effects written in the same transaction as the change that causes them."""
