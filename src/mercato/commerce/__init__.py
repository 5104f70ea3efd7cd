"""Commerce: quotes, orders, invoices, payments, refunds and the license transactions they cause."""
