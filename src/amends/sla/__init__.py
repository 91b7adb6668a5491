"""SLA clocks: business-hours arithmetic (`rules`) and public holidays (`holidays`)."""
