{
    "name": "Logistics Connector - EDI X12",
    "summary": "X12 940/945/856/944/997 with trading partners over SFTP",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-connector/logistics-connector",
    "author": "Logistics Connector contributors",
    "maintainers": ["logistics-connector"],
    "license": "AGPL-3",
    "installable": True,
    "depends": ["logistics_connector_base"],
    "external_dependencies": {"python": ["paramiko"]},
    "data": [],
}
