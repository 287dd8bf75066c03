"""Pure DataFrame -> DataFrame transformations that build the SIREN x month panel."""
