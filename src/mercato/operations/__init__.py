"""The operator's routine work on a whole deployment: ``mercato doctor``, backups and restores, and moving a
deployment from one database to another (``mercato export`` / ``mercato import``)."""
