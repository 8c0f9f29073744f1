from odoo import api, fields, models
from odoo.addons.logistics_connector_base.const import EXCEPTION_OPEN_STATES
from odoo.addons.logistics_connector_base.lib.errors import LogisticsError
from odoo.exceptions import UserError

from ..lib.status import IN_PROGRESS
from .logistics_file_layout import DEFAULT_LAYOUTS


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    adapter = fields.Selection(
        selection_add=[
            ("shipbob", "ShipBob-style REST + webhooks"),
            ("extensiv", "Extensiv 3PL Warehouse Manager (polling)"),
            ("flatfile_sftp", "Flat files (CSV) over SFTP"),
        ],
        ondelete={
            "shipbob": "set default",
            "extensiv": "set default",
            "flatfile_sftp": "set default",
        },
    )
    shipbob_channel_id = fields.Char(
        string="ShipBob Channel ID",
        help="Sent as shipbob_channel_id on every creation (orders, receiving orders, returns). "
        "Empty: the first channel the token sees is used (GET /channel); Test connection lists "
        "them.",
    )
    default_service_level = fields.Char(
        help="Shipping method sent for transfers without a carrier (e.g. Standard). Transfers "
        "with a carrier need a Carrier Service mapping instead.",
    )
    routing_rule_ids = fields.One2many("logistics.routing.rule", "backend_id")
    shipbob_webhook_id = fields.Char(
        string="ShipBob Webhook Subscription",
        readonly=True,
        copy=False,
        help="ShipBob's id of the subscription that sends its events to this partner's webhook "
        "URL (Register Webhooks).",
    )

    def action_shipbob_register_webhooks(self):
        """Register Webhooks (button): subscribe this partner's webhook URL to ShipBob's
        topics with its signing secret; registering again changes nothing, or replaces a
        subscription whose topics or secret differ."""
        self.ensure_one()
        self.check_access("write")
        if self.adapter != "shipbob":
            raise UserError(
                self.env._(
                    "%(partner)s does not use the ShipBob adapter: its webhooks are set up in "
                    "the partner's own portal.",
                    partner=self.name,
                )
            )
        try:
            detail = self._get_adapter()._register_webhooks(self)
        except LogisticsError as error:
            return self._notify(
                self.env._("The webhooks of %(name)s were not registered", name=self.name),
                self._masked_text(error.message),
                "danger",
            )
        return self._notify(
            self.env._("Webhooks of %(name)s registered", name=self.name), detail, "success"
        )

    def action_logistics_pull_inventory(self):
        """Sync inventory now (button); the reconciliation runs in the partner's jobs."""
        self.check_access("write")
        for backend in self:
            adapter = backend._get_adapter()
            if not hasattr(adapter, "_pull_inventory"):
                raise UserError(
                    self.env._(
                        "%(partner)s cannot be asked for its inventory: it sends it by itself.",
                        partner=backend.name,
                    )
                )
            try:
                adapter._pull_inventory(backend)
            except LogisticsError as error:
                # The partner is busy, down or refuses: say so, nothing was changed.
                raise UserError(
                    self.env._(
                        "The inventory of %(partner)s could not be read: %(error)s",
                        partner=backend.name,
                        error=backend._masked_text(error.message),
                    )
                ) from None
        return True

    @api.model
    def _cron_logistics_pull_inventory(self):
        """Pull the inventory of every partner whose inbound inventory flow is a batch flow
        that is due; one partner's failure opens an exception and never stops the others."""
        due = (
            self.env["logistics.backend.flow"]
            .sudo()
            .search(
                [
                    ("flow", "=", "inventory_snapshot"),
                    ("direction", "=", "inbound"),
                    ("mode", "=", "batch"),
                ]
            )
        )
        now = fields.Datetime.now()
        for flow in due.filtered(lambda f: not f.last_run_at or f.next_run_at <= now):
            backend = flow.backend_id
            adapter = backend._get_adapter()
            if not hasattr(adapter, "_pull_inventory"):
                continue
            try:
                with self.env.cr.savepoint():
                    adapter._pull_inventory(backend)
                    flow.last_run_at = now
            except LogisticsError as error:
                self.env["logistics.exception"].raise_exception(
                    "partner_down" if error.error_class == "transient" else "configuration_error",
                    self.env._("%(partner)s: the inventory sync failed", partner=backend.name),
                    self.env._(
                        "%(error)s\nThe next run tries again.",
                        error=backend._masked_text(error.message),
                    ),
                    backend=backend,
                    dedup_key=backend._logistics_cron_problem_key("inventory"),
                )
            else:
                backend._logistics_cron_problem_solved("inventory")
        return True

    def _logistics_cron_problem_key(self, cron):
        return f"3pl_cron:{cron}:{self.id}"

    def _logistics_cron_problem_solved(self, cron):
        """A cron that failed for this partner worked again: its open exception (one, however
        many runs failed) is closed, nobody has to close it by hand after an outage."""
        self.ensure_one()
        open_problem = (
            self.env["logistics.exception"]
            .sudo()
            .search(
                [
                    ("dedup_key", "=", self._logistics_cron_problem_key(cron)),
                    ("state", "in", EXCEPTION_OPEN_STATES),
                ]
            )
        )
        if open_problem:
            open_problem._close(
                "resolved", self.env._("%(partner)s answered again.", partner=self.name)
            )

    def _logistics_open_order_references(self, limit=500):
        """The orders this partner has that Odoo still waits for (not reported shipped in
        full or cancelled yet), by the reference they were sent under (a backorder's is its
        first transfer's), oldest news first: what a poll asks about."""
        self.ensure_one()
        pickings = (
            self.env["stock.picking"]
            .sudo()
            .search(
                [
                    ("logistics_backend_id", "=", self.id),
                    ("picking_type_code", "=", "outgoing"),
                    ("logistics_status", "in", (*IN_PROGRESS, "partially_shipped")),
                    ("state", "not in", ("done", "cancel")),
                ],
                order="logistics_status_date, id",
                limit=limit,
            )
        )
        references = []
        for picking in pickings:
            while picking.backorder_id:
                picking = picking.backorder_id
            if picking.name not in references:
                references.append(picking.name)
        return references

    def _logistics_sends(self, flow):
        """Whether this partner's adapter sends ``flow`` documents (an adapter says so with
        ``_sends_flow``; adapters that do not say send what they are given)."""
        self.ensure_one()
        adapter = self._get_adapter()
        return adapter._sends_flow(flow) if hasattr(adapter, "_sends_flow") else True

    @api.model
    def _logistics_transport_kind(self, adapter):
        if adapter in ("shipbob", "extensiv"):
            return "rest"
        return super()._logistics_transport_kind(adapter)

    # ---- Extensiv (polling) ----

    extensiv_customer_id = fields.Integer(
        string="Extensiv Customer ID", help="Your customer id in the 3PL's Warehouse Manager."
    )
    poll_watermark = fields.Char(
        readonly=True,
        copy=False,
        help="lastModifiedDate of the newest change read from the partner: the next poll reads "
        "from there (minus the overlap), so no change is missed; changes read twice are stored "
        "once.",
    )
    poll_receiver_watermark = fields.Char(
        readonly=True,
        copy=False,
        help="lastModifiedDate of the newest receiver (receipt or customer return) read from "
        "the partner: receivers are polled from there, minus the overlap.",
    )
    poll_overlap_seconds = fields.Integer(
        default=120,
        help="Each poll reads again this far before the watermark, for changes the partner "
        "committed late with an older date.",
    )
    poll_page_size = fields.Integer(
        default=100, help="Orders, receivers or stock rows per page (pgsiz, at most 500)."
    )

    def _new_rest_transport(self, endpoint):
        # Extensiv's token request is its own (JSON body with the TPL key and user login):
        # the adapter fetches and renews the token, the transport only carries it.
        if self.adapter == "extensiv":
            endpoint = dict(endpoint, auth_kind="none")
        return super()._new_rest_transport(endpoint)

    @api.model
    def _cron_logistics_poll_partners(self):
        """Poll every active partner for what its webhooks do not bring (Extensiv: all of it;
        ShipBob: completed receiving orders); one partner's failure opens an exception and
        never stops the others."""
        for backend in self.search([("adapter", "in", ("extensiv", "shipbob"))]):
            try:
                with self.env.cr.savepoint():
                    backend._get_adapter()._poll(backend)
            except LogisticsError as error:
                self.env["logistics.exception"].raise_exception(
                    "partner_down" if error.error_class == "transient" else "configuration_error",
                    self.env._("%(partner)s could not be polled", partner=backend.name),
                    self.env._(
                        "%(error)s\nNothing is missed: the next poll reads from the same point.",
                        error=backend._masked_text(error.message),
                    ),
                    backend=backend,
                    dedup_key=backend._logistics_cron_problem_key("poll"),
                )
            else:
                backend._logistics_cron_problem_solved("poll")
        return True

    # ---- flat files ----

    @api.model
    def _demo_connect_sandboxes(self, sftp_connection_file):
        self._demo_connect_sftp_partner(
            "logistics_connector_3pl.demo_backend_flatfile",
            "logistics_connector_3pl.demo_backend_flatfile_flow_files",
            sftp_connection_file,
        )
        return super()._demo_connect_sandboxes(sftp_connection_file)

    @api.model
    def _demo_sandbox_endpoints(self):
        return [
            *super()._demo_sandbox_endpoints(),
            (
                "logistics_connector_3pl.demo_backend_shipbob_endpoint_test",
                "LC_SANDBOX_3PL_PORT",
                "/2026-07",
            ),
            (
                "logistics_connector_3pl.demo_backend_extensiv_endpoint_test",
                "LC_SANDBOX_EXTENSIV_PORT",
                "",
            ),
        ]

    file_layout_ids = fields.One2many("logistics.file.layout", "backend_id", string="File Layouts")

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends._ensure_file_layouts()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if "adapter" in vals:
            self._ensure_file_layouts()
        return result

    def _ensure_file_layouts(self):
        """A flat-file partner starts with the common layouts (ord_/shp_/inv_/rcv_/rma_ files
        with canonical column names), which its administrator adapts."""
        layouts = self.env["logistics.file.layout"].sudo()
        for backend in self.filtered(lambda b: b.adapter == "flatfile_sftp"):
            missing = set(DEFAULT_LAYOUTS) - set(backend.sudo().file_layout_ids.mapped("document"))
            if missing:
                layouts.create(layouts._default_values(backend, missing))
