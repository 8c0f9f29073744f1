import requests

from odoo import api, fields, models

# One keep-alive session per worker process, as the bench's bare POST baseline uses.
_SESSION = requests.Session()


class LcBenchRow(models.Model):
    """Bench only: one row per request of the plain insert route."""

    _name = "lc.bench.row"
    _description = "Benchmark baseline row"

    name = fields.Char()
    body = fields.Text()

    @api.model
    def _bench_post(self, url, document):
        """The send floor as a queue_job job: one bare POST of the document, nothing else."""
        _SESSION.post(url, json=document, timeout=10).raise_for_status()
        return True
