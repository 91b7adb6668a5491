"""Everything the desk sends out: mail over SMTP and signed webhooks, through a database outbox."""
