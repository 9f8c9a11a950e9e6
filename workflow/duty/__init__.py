"""The team's daily duty (SPEC §11, §13): patrol rounds with zero reports, sensitive periods, the working
calendar's notices and the years the office enters from the State Council's notice (workdays).
"""
