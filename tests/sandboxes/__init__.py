"""Loopback partner sandboxes used by the cross-module tests and by the demo (scripts/run)."""

from .http_partner import GenericPartnerSandbox

__all__ = ["GenericPartnerSandbox"]
