"""The nv-conformance reference provider: the Number Verification API with its own authorization server.

``create_app(settings)`` (reference_impl.app) builds the ASGI app; ``EmbeddedReference``
(reference_impl.embedded) serves it on a free loopback port; ``nv-conformance serve``
(reference_impl.command) runs it from the command line.
"""
