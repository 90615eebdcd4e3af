"""Conversions: leads and sales a brand's server reports, attributed to a click (seed 02)."""
