"""One module per extract: explicit schema, parser (French names renamed here, once)."""
