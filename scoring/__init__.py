"""Scoring: champion models on a month of the panel, the alert policy, the reasons behind each
score and the regional list a team opens."""
