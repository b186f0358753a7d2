"""Deprecated: the registry's field checks are `registry/wire/validation.py`.

Kept only for `prediction/servicer.py`, which still imports it until the
prediction context has checks of its own; delete this module then.
"""

from maestro_grpc.registry.wire.validation import number, request_id, skills, text

__all__ = ["number", "request_id", "skills", "text"]
