"""Incidents: spikes of similar complaints, grouped, with a public response scaled to them."""
