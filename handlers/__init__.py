"""One module per thing a person does; registry.py maps commands and events to them."""
