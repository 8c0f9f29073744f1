from odoo import SUPERUSER_ID, http
from odoo.http import request


class LcBenchBaseline(http.Controller):
    """The webhook intake's baseline: a plain Odoo route on the same server that reads the
    body, inserts one row and commits, answering 202 JSON like the webhook does."""

    @http.route(
        "/lc_bench/insert",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def insert(self, **_kwargs):
        body = request.httprequest.get_data(cache=True, parse_form_data=False)
        env = request.env(user=SUPERUSER_ID)
        row = env["lc.bench.row"].create(
            {"name": request.httprequest.headers.get("webhook-id"), "body": body.decode()}
        )
        request.env.cr.commit()
        return request.make_json_response(
            {"status": "ok", "detail": "accepted", "row": row.id}, status=202
        )
