{
    "name": "Logistics Connector - 3PL",
    "summary": "3PL warehouses over REST with signed webhooks: order release with routing rules, "
    "warehouse progress, shipments, receipts (ASN) and returns",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-connector/logistics-connector",
    "author": "Logistics Connector contributors",
    "maintainers": ["logistics-connector"],
    "license": "AGPL-3",
    "installable": True,
    "depends": ["logistics_connector_base", "base_automation", "stock_delivery"],
    "external_dependencies": {"python": ["requests", "paramiko"]},
    "data": [
        "security/ir.model.access.csv",
        "security/logistics_routing_rule_security.xml",
        "data/logistics_3pl_data.xml",
        "views/logistics_routing_rule_views.xml",
        "views/stock_picking_views.xml",
        "views/logistics_file_layout_views.xml",
    ],
    "demo": ["demo/logistics_3pl_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "logistics_connector_3pl/static/tests/tours/*.js",
        ],
    },
}
