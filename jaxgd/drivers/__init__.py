"""The two drivers of the core: ``train`` (one run, one program) and ``sweep`` (runs under vmap, in chunks), with their input checks."""
