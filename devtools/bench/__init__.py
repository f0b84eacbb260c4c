"""The platform's benchmark: ``hatch run bench``, against a real Redis server.

It measures, on one Redis server and one after the other so that no phase
disturbs another: the send rate of plain Dramatiq and of the kernel, the bulk
send rate, the drain rate of one consumer process, the latency of one hop and
of the three-context pipeline, the data import, and the Redis commands an idle
consumer issues. Each figure is printed with its target, whether it meets it,
and its spread over the repetitions.
"""
