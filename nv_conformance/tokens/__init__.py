"""Access tokens for the kit: one module per method (see base.py for the protocol)."""
