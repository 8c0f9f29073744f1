{
    "name": "Logistics Connector - Carriers",
    "summary": "REST and SOAP carriers inside Odoo shipping methods: rates, labels, tracking",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-connector/logistics-connector",
    "author": "Logistics Connector contributors",
    "maintainers": ["logistics-connector"],
    "license": "AGPL-3",
    "installable": True,
    "depends": ["logistics_connector_base", "stock_delivery"],
    "external_dependencies": {"python": ["requests", "zeep"]},
    "data": [],
}
