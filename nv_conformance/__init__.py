"""nv-conformance: conformance kit for the CAMARA Number Verification API."""

__version__ = "0.1.0"
