"""The incident steps (SPEC §6–12): report, dispatch, 签收, 首报/续报, written reports and their approval, consultation,
extensions, follow-up, statements and guided replies. Each module is one step; it parses nothing and applies the
table through the engine.
"""
