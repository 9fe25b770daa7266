from .bundles import conformant_bundle, failing_bundle  # noqa: F401  (fixtures shared by this package's tests)
