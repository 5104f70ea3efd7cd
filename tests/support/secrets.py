"""A secret strong enough for the commands that refuse weak ones (serve, worker, keys, license issue). Public:
it protects only the throw-away databases of the tests."""

COMMAND_SECRET = "tests-only-secret-9Qm2Lx7Vb4Nc8Rt1Kz6Wp3Hs5Jd0Fg"
