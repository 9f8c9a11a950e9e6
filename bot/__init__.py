"""The WeCom edge: app factory, callback, crypto, API client, conversation state."""
