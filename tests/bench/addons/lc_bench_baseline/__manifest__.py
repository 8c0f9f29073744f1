{
    "name": "Logistics Connector - Benchmark Baselines",
    "summary": "Bench only: the plain Odoo route and the job that scripts/bench compares the "
    "connector against. Never install it anywhere else.",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "author": "Logistics Connector contributors",
    "website": "https://github.com/logistics-connector/logistics-connector",
    "license": "AGPL-3",
    "installable": True,
    "depends": ["base", "queue_job"],
    "data": ["security/ir.model.access.csv"],
}
