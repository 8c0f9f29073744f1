{
    "name": "Logistics Connector - EDI X12",
    "summary": "X12 940/945/944/846/997 with trading partners over SFTP, own validated X12 engine",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-connector/logistics-connector",
    "author": "Logistics Connector contributors",
    "maintainers": ["logistics-connector"],
    "license": "AGPL-3",
    "installable": True,
    "depends": ["logistics_connector_base"],
    "external_dependencies": {"python": ["paramiko"]},
    "data": [
        "security/ir.model.access.csv",
        "security/logistics_x12_security.xml",
        "views/logistics_backend_views.xml",
        "views/logistics_x12_interchange_views.xml",
    ],
}
