"""Helpers at the bottom of the layout: every package may import them, they import no package of
the project."""
