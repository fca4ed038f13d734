"""Background jobs: long work (imports, the group close, credit recomputes) with progress a
page or a CLI can follow. See docs/jobs.md."""
