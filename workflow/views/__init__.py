"""Read models and rendering: the board, 查询 and 我的待办 (with what a person owes: owed), the timeline in words,
the case file, the statistics trends and their SVG charts, message and card builders, H5 links and the metrics
gauges. Nothing here changes the record.
"""
