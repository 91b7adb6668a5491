"""Replies: the checker every outgoing reply passes, the composer that drafts them, and sending."""
