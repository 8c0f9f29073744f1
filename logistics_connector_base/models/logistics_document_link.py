from odoo import api, fields, models


class LogisticsDocumentLink(models.AbstractModel):
    """Records that point at a business document by (res_model, res_id): messages and
    exceptions. Its name is shown to people who may not read that kind of document (a
    Logistics User without Inventory rights): they see what it is, not an access error."""

    _name = "logistics.document.link"
    _description = "Link to a Business Document"

    document_name = fields.Char(compute="_compute_document_name")

    @api.depends("res_model", "res_id")
    @api.depends_context("uid")
    def _compute_document_name(self):
        for link in self:
            document = link._get_document()
            if not document:
                link.document_name = False
            elif document.has_access("read"):
                link.document_name = document.display_name
            else:
                description = self.env["ir.model"]._get(document._name).name or document._name
                link.document_name = f"{description} #{document.id}"

    def _get_document(self):
        """The linked record if it still exists (whatever the user may read), else None."""
        self.ensure_one()
        if self.res_model and self.res_id and self.res_model in self.env:
            return self.env[self.res_model].browse(self.res_id).sudo().exists().sudo(False)
        return None
