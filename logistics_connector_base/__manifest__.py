{
    "name": "Logistics Connector - Base",
    "summary": "Integration core for 3PL, carrier and EDI partners: canonical documents, "
    "queued messages, exception work queue and a tamper-evident audit log",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-connector/logistics-connector",
    "author": "Logistics Connector contributors",
    "maintainers": ["logistics-connector"],
    "license": "AGPL-3",
    "application": True,
    "installable": True,
    "depends": ["mail", "stock", "sale_stock", "purchase_stock", "queue_job"],
    "external_dependencies": {
        "python": ["requests", "zeep", "paramiko", "jsonschema", "lxml"],
    },
    "data": [
        "security/logistics_security.xml",
        "security/ir.model.access.csv",
        "security/logistics_inventory_report_security.xml",
        "data/logistics_data.xml",
        "views/logistics_backend_views.xml",
        "views/logistics_message_views.xml",
        "views/logistics_mapping_views.xml",
        "views/business_document_views.xml",
        "data/logistics_exception_data.xml",
        "views/logistics_exception_views.xml",
        "views/logistics_team_views.xml",
        "views/logistics_exception_rule_views.xml",
        "views/logistics_audit_log_views.xml",
        "wizards/logistics_exception_resolve_views.xml",
        "views/logistics_menus.xml",
        # After the menus: its menu item hangs under the Logistics root.
        "views/logistics_inventory_report_views.xml",
        "views/logistics_webhook_refusal_views.xml",
    ],
    "demo": ["demo/logistics_backend_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "logistics_connector_base/static/tests/tours/*.js",
        ],
    },
}
