"""Development tools of the workspace: the demo and the servers it starts.

Not a distribution: the demo, the benchmark and the tests use these to start a
real Redis server and a local SMTP sink on this machine.
"""
