import fnmatch
import json

from odoo import Command, api, fields, models
from odoo.addons.logistics_connector_base.lib.errors import LogisticsError
from odoo.exceptions import ValidationError

from ..lib import flatfile

DOCUMENTS = [
    ("order_release", "Orders (sent)"),
    ("receipt_notice", "Receipt notices (sent)"),
    ("return_notice", "Return authorizations (sent)"),
    ("shipment", "Shipment confirmations"),
    ("inventory_snapshot", "Inventory snapshots"),
    ("receipt", "Receipts"),
    ("return", "Returns"),
]
KEYS = sorted({key for keys in flatfile.FIELDS.values() for key in keys})
# Outbound kinds, by the flow that sends them.
OUTBOUND = {
    "order_release": "order_release",
    "receipt": "receipt_notice",
    "return": "return_notice",
}
# The DropStream-like exchange most legacy 3PLs know: one file kind per prefix.
DEFAULT_LAYOUTS = {
    "order_release": "ord_{reference}_{timestamp}.csv",
    "receipt_notice": "asn_{reference}_{timestamp}.csv",
    "return_notice": "ra_{reference}_{timestamp}.csv",
    "shipment": "shp_*.csv",
    "inventory_snapshot": "inv_*.csv",
    "receipt": "rcv_*.csv",
    "return": "rma_*.csv",
}


class LogisticsFileLayout(models.Model):
    """How one kind of flat file of a partner is laid out: its name, separator and columns.
    A sample file shows at once what Odoo reads from it."""

    _name = "logistics.file.layout"
    _description = "Logistics File Layout"
    _inherit = ["logistics.audited.mixin"]
    _order = "backend_id, document"

    name = fields.Char(compute="_compute_name", store=True)
    backend_id = fields.Many2one(
        "logistics.backend", string="Partner", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    document = fields.Selection(DOCUMENTS, required=True)
    file_pattern = fields.Char(
        required=True,
        help="Inbound: the names of the partner's files of this kind (shell pattern, e.g. "
        "shp_*.csv). Outbound: the name of the files Odoo writes; {reference} and {timestamp} "
        "are replaced.",
    )
    delimiter = fields.Selection(
        [(",", "Comma"), (";", "Semicolon"), ("|", "Pipe"), ("\t", "Tab")],
        default=",",
        required=True,
    )
    has_header = fields.Boolean(default=True, help="The first row names the columns.")
    column_ids = fields.One2many(
        "logistics.file.layout.column", "layout_id", string="Columns", copy=True
    )
    sample = fields.Text(help="Paste a file of the partner to see what Odoo reads from it.")
    preview = fields.Text(compute="_compute_preview")

    _sql_constraints = [
        ("document_uniq", "unique(backend_id, document)", "A partner has one layout per file kind.")
    ]

    @api.depends("backend_id.name", "document")
    def _compute_name(self):
        labels = dict(DOCUMENTS)
        for layout in self:
            layout.name = f"{layout.backend_id.name}: {labels.get(layout.document, '')}"

    @api.depends(
        "sample", "column_ids.header", "column_ids.field", "delimiter", "has_header", "document"
    )
    def _compute_preview(self):
        for layout in self:
            if not layout.sample:
                layout.preview = False
                continue
            try:
                if layout.document in OUTBOUND.values():
                    rows = flatfile.read_rows(layout.sample, layout._spec())
                    layout.preview = json.dumps(rows, indent=2)
                else:
                    documents = flatfile.parse(
                        layout.sample, layout._spec(), layout.document, "2000-01-01T00:00:00Z"
                    )
                    layout.preview = json.dumps(documents, indent=2, ensure_ascii=False)
            except LogisticsError as error:
                details = "\n".join(getattr(error, "errors", []) or [])
                layout.preview = self.env._(
                    "Cannot read this sample: %(error)s", error=error.message
                ) + (f"\n{details}" if details else "")

    @api.constrains("column_ids", "document")
    def _check_columns(self):
        for layout in self:
            allowed = set(flatfile.FIELDS[layout.document])
            wrong = [c.field for c in layout.column_ids if c.field not in allowed]
            if wrong:
                raise ValidationError(
                    self.env._(
                        "%(layout)s cannot carry %(fields)s: choose among %(allowed)s.",
                        layout=layout.name,
                        fields=", ".join(wrong),
                        allowed=", ".join(flatfile.FIELDS[layout.document]),
                    )
                )

    def _spec(self):
        self.ensure_one()
        return {
            "delimiter": self.delimiter,
            "header": self.has_header,
            "columns": [(c.header, c.field) for c in self.column_ids.sorted("sequence")],
        }

    def _matches(self, name):
        return self.document not in OUTBOUND.values() and fnmatch.fnmatch(name, self.file_pattern)

    @api.model
    def _default_values(self, backend, documents=None):
        return [
            {
                "backend_id": backend.id,
                "document": document,
                "file_pattern": pattern,
                "column_ids": [
                    Command.create({"sequence": number, "header": key, "field": key})
                    for number, key in enumerate(flatfile.FIELDS[document])
                ],
            }
            for document, pattern in DEFAULT_LAYOUTS.items()
            if documents is None or document in documents
        ]


class LogisticsFileLayoutColumn(models.Model):
    _name = "logistics.file.layout.column"
    _description = "Logistics File Layout Column"
    _order = "layout_id, sequence, id"

    layout_id = fields.Many2one(
        "logistics.file.layout", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    header = fields.Char(required=True, help="The column as the partner names it.")
    field = fields.Selection([(key, key) for key in KEYS], required=True, help="What it carries.")
