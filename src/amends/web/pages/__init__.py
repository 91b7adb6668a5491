"""One module a page (or a few related pages), each with its own router."""
