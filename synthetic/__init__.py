"""Generator of realistic synthetic extracts: a simulated economy of firms."""
