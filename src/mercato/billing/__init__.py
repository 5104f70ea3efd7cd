"""The billing run: cloud renewals on the site's billing date, dunning, and license lifecycle changes."""
