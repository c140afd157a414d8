"""Side-by-side benchmarks of the consultation bot against a bare python-telegram-bot, on the local Bot API server.

Run them all with `make bench` (or `python -m benchmarks --only NAME`); each figure is a ratio of two runs made
one after the other in the same process, so the machine's speed cancels out. Results go to benchmarks/RESULTS.md.
"""
