{
    "name": "Logistics Connector - EDI X12",
    "summary": "X12 EDI over SFTP: 940/943/856 out, 945/944/846/214/210 in, 997s; own X12 engine",
    "version": "18.0.1.1.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-connector/logistics-connector",
    "author": "Logistics Connector contributors",
    "maintainers": ["logistics-connector"],
    "license": "AGPL-3",
    "installable": True,
    "depends": ["logistics_connector_base"],
    "demo": ["demo/logistics_edi_demo.xml"],
    "external_dependencies": {"python": ["paramiko"]},
    "assets": {
        "web.assets_tests": [
            "logistics_connector_edi/static/tests/tours/*.js",
        ],
    },
    "data": [
        "security/ir.model.access.csv",
        "security/logistics_x12_security.xml",
        "views/logistics_backend_views.xml",
        "views/logistics_message_views.xml",
        "views/logistics_x12_interchange_views.xml",
    ],
}
