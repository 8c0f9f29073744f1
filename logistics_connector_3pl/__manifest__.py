{
    "name": "Logistics Connector - 3PL",
    "summary": "3PL warehouses over REST with signed webhooks and over SFTP flat files",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-connector/logistics-connector",
    "author": "Logistics Connector contributors",
    "maintainers": ["logistics-connector"],
    "license": "AGPL-3",
    "installable": True,
    "depends": ["logistics_connector_base"],
    "external_dependencies": {"python": ["requests", "paramiko"]},
    "data": [],
}
