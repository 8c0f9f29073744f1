"""Repository root conftest: its presence puts the repository root on sys.path, so addon tests
can import the loopback partner sandboxes as `tests.sandboxes`."""
