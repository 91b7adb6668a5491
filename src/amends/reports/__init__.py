"""Reports over the desk: SLA attainment, response times, reopens and surveys."""
