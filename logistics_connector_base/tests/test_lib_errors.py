"""Error classes: classification attributes survive pickling (queue_job, multiprocessing)."""

import pickle

from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
    DocumentValidationError,
    LogisticsError,
    TransientError,
)
from odoo.addons.logistics_connector_base.lib.webhook_signature import WebhookVerificationError


def test_error_classes():
    cases = {
        TransientError: "transient",
        BusinessError: "business",
        ConfigurationError: "configuration",
        DocumentValidationError: "validation",
    }
    for cls, error_class in cases.items():
        error = cls("Plain words")
        assert isinstance(error, LogisticsError)
        assert (error.error_class, error.message, str(error)) == (
            error_class,
            "Plain words",
            "Plain words",
        )
        assert (error.retry_after, error.status) == (None, None)
    assert TransientError("x").details == {}
    assert DocumentValidationError("x").details == {"errors": []}


def test_attributes_and_dict():
    error = TransientError("Partner busy", retry_after=30.0, status=429, details={"a": 1})
    assert error.to_dict() == {
        "error_class": "transient",
        "message": "Partner busy",
        "retry_after": 30.0,
        "status": 429,
        "details": {"a": 1},
    }
    invalid = DocumentValidationError("bad", errors=["x: y"])
    assert invalid.errors == ["x: y"]
    assert invalid.details == {"errors": ["x: y"]}


def test_errors_survive_pickling():
    originals = [
        TransientError("Partner busy", retry_after=30.0, status=429, details={"a": 1}),
        DocumentValidationError("bad", errors=["lines: must not be empty"]),
        WebhookVerificationError("The webhook-id header is missing.", 400),
    ]
    originals[0].exchange = {"request": {"method": "GET"}}
    for original in originals:
        copy = pickle.loads(pickle.dumps(original))
        assert type(copy) is type(original)
        assert copy.__dict__ == original.__dict__
        assert str(copy) == str(original)
    assert pickle.loads(pickle.dumps(originals[2])).status == 400
