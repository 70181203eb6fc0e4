"""The staff console: a web application where staff keep the knowledge base true (issue 14)."""
