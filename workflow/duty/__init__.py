"""The team's daily duty (SPEC §11, §13): patrol rounds with zero reports, sensitive periods and the working
calendar's notices.
"""
