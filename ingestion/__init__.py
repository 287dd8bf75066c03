"""Ingestion: recognise, read, validate and type the raw extracts; bad lines go to quarantine.

`sources/` declares one module per extract (its fields, French names renamed once, there),
`fields.py` holds each parsing rule once, `reading.py` reads lines and splits them into typed rows
and quarantined ones, `registry.py` lists the sources and recognises files by name.
"""
