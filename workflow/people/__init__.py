"""Organisation and contacts: look-ups, the TOML import, contact-book sync, the item group chats and the app menu."""
