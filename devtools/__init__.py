"""Development tools of the workspace: the demo, its servers, builds and releases.

Not a distribution: the demo, the benchmark and the tests use these to start a
real Redis server and a local SMTP sink on this machine, and the hatch scripts
``build-all``, ``release``, ``check-tag`` and ``build-tag`` build and release
each package on its own.
"""
