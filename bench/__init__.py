"""imapapi benchmarks: `./scripts/bench` (see bench/README.md). Not part of the test suite."""
