"""The record: the archive file, upward reports (快报/专报) and exports of items."""
