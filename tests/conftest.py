"""Cross-module tests live outside any addon, so Odoo's test metaclass gives their classes no
tags; give them the defaults an addon's tests get, or Odoo's setUpClass refuses them."""


def pytest_collection_modifyitems(items):
    for item in items:
        cls = getattr(item, "cls", None)
        if cls is not None and getattr(cls, "test_tags", None) is None:
            cls.test_tags = {"standard", "at_install"}
            cls.test_module = "logistics_connector_tests"
            cls.test_class = cls.__name__
            cls.test_sequence = 0
