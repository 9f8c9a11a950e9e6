"""The procedure engine: the declared table applied (procedure, relations), the clocks and their firing, cards, the
outbox, audit and who hears of a step. Every step goes through here; nothing here knows a particular step.
"""
