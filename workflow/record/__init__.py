"""The record: the archive file, upward reports (快报/专报), the Word templates documents are made from, and exports
of items."""
