"""The screens as people use them: what the computed fields, actions and views give them."""

import json

from lxml import etree

from odoo.exceptions import AccessError, UserError

from .common import LogisticsCase


class ScreensCase(LogisticsCase):
    def release_to_missing_warehouse(self):
        """An order release that stops on a missing warehouse mapping (NRTH)."""
        north = self.env["stock.warehouse"].create({"name": "North", "code": "NRTH"})
        picking = self.make_picking()
        picking.picking_type_id = north.out_type_id
        return picking, self.release(picking)

    def arch(self, model, view_type, user=None):
        records = self.env[model].with_user(user) if user else self.env[model]
        return etree.fromstring(records.get_views([(False, view_type)])["views"][view_type]["arch"])


class TestMessagePayload(ScreensCase):
    def test_wire_payload_reads_as_text_when_the_client_asks_for_sizes(self):
        picking = self.make_picking()
        message = self.release(picking)
        self.run_jobs()
        self.assertEqual(message.state, "done")
        message.invalidate_recordset()
        # The web client reads every field with bin_size=True.
        [values] = message.with_context(bin_size=True).web_read(
            {"wire_request_text": {}, "wire_response_text": {}, "canonical_text": {}}
        )
        for name in ("wire_request_text", "wire_response_text"):
            self.assertNotIn("bytes of binary data", values[name] or "", name)
        self.assertIn(picking.name, values["wire_request_text"])
        self.assertEqual(json.loads(values["wire_request_text"])["reference"], picking.name)
        self.assertTrue(json.loads(values["wire_response_text"])["id"])
        self.assertEqual(json.loads(values["canonical_text"])["reference"], picking.name)

    def test_payload_viewers_use_modes_odoo_18_has(self):
        arch = self.arch("logistics.message", "form")
        for name in ("canonical_text", "wire_request_text", "wire_response_text"):
            [node] = arch.xpath(f"//field[@name='{name}']")
            widget, options = node.get("widget"), node.get("options") or ""
            self.assertNotIn("'js'", options, f"{name}: mode js does not exist in Odoo 18")
            if widget in ("ace", "code"):
                # CodeEditor.MODES of Odoo 18: javascript, xml, qweb, scss, python.
                self.assertIn("'javascript'", options, name)
            else:
                self.assertEqual(widget, "text", name)
                self.assertIn("font-monospace", node.get("class"), name)

    def test_latency_is_averaged_with_a_count_beside_it(self):
        messages = self.env["logistics.message"]
        self.assertEqual(messages._fields["latency"].aggregator, "avg")
        action = self.env.ref("logistics_connector_base.logistics_message_action")
        self.assertIn("'pivot_measures': ['__count', 'latency']", action.context)
        self.assertIn("graph", action.view_mode)
        for view_type in ("pivot", "graph"):
            arch = self.arch("logistics.message", view_type)
            self.assertTrue(arch.xpath("//field[@name='latency'][@type='measure']"), view_type)
        [column] = self.arch("logistics.message", "list").xpath("//field[@name='latency']")
        self.assertTrue(column.get("avg"))
        first, second = self.release(), self.release(self.make_picking())
        self.run_jobs()
        self.env.flush_all()
        [(count, average)] = messages._read_group(
            [("id", "in", (first | second).ids)], [], ["__count", "latency:avg"]
        )
        self.assertEqual(count, 2)
        self.assertAlmostEqual(average, (first.latency + second.latency) / 2)

    def test_an_inbound_document_without_a_reference_field_is_named_once_decoded(self):
        picking = self.make_picking()
        self.release(picking)
        self.run_jobs()
        body = {
            "type": "ack",
            "data": {
                "schema": "ack/1",
                "acknowledged_reference": picking.name,
                "status": "accepted",
            },
        }
        message, _created = self.env["logistics.message"]._create_inbound(
            self.backend, "ack", json.dumps(body).encode(), event_id="evt-screens-ack"
        )
        self.assertFalse(message.reference, "not decoded yet")
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual((message.flow, message.reference), ("ack", picking.name))
        columns = [
            node.get("name") for node in self.arch("logistics.message", "list").xpath("//field")
        ]
        self.assertIn("flow", columns)
        self.assertIn("reference", columns)


class TestExceptionTitles(ScreensCase):
    def test_a_rejection_is_titled_by_the_problem_then_the_message(self):
        self.sandbox.unknown_skus = {"WIDGET-1"}
        message = self.release()
        self.run_jobs()
        exception = message.exception_ids
        self.assertFalse(exception.name.startswith(message.name), exception.name)
        self.assertTrue(exception.name.endswith(f"({message.name})"), exception.name)
        self.assertIn("unknown SKU WIDGET-1", exception.name)
        self.assertLessEqual(len(exception.name), 120)
        self.assertEqual(exception.message_id, message, "the message stays on its field")

    def test_a_long_error_is_cut_at_a_word_within_120_characters(self):
        self.sandbox.unknown_skus = {"WIDGET-1"}
        message = self.release()
        long_error = "The partner refused the order because " + "of a very long reason " * 20
        title = message._exception_title(UserError(long_error), long_error, False)
        self.assertLessEqual(len(title), 120)
        self.assertTrue(title.startswith("The partner refused the order because"))
        self.assertTrue(title.endswith(f"\u2026 ({message.name})"), title)

    def test_a_dead_message_says_it_gave_up_first(self):
        self.backend.breaker_threshold = 100
        self.sandbox.inject("status", count=10, status=502)
        message = self.release()
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "dead")
        self.assertTrue(
            message.exception_ids.name.startswith("Gave up after 3 attempts: "),
            message.exception_ids.name,
        )

    def test_overdue_acknowledgement_title_starts_with_the_problem(self):
        message = self.release()
        self.run_jobs()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_message SET ack_due_at = now() at time zone 'UTC' - interval "
            "'1 minute' WHERE id = %s",
            (message.id,),
        )
        message.invalidate_recordset()
        self.env["logistics.message"]._cron_ack_overdue()
        self.assertEqual(
            message.exception_ids.name, f"No acknowledgement from the partner ({message.name})"
        )


class TestMissingMappingNextStep(ScreensCase):
    def test_add_mapping_opens_the_mapping_form_prefilled(self):
        picking, message = self.release_to_missing_warehouse()
        exception = message.exception_ids
        self.assertEqual(exception.exception_type, "mapping_missing")
        self.assertEqual(exception.name, f"Missing Warehouse mapping for 'NRTH' ({message.name})")
        self.assertEqual(
            exception.next_step,
            {"action": "add_mapping", "mapping_type": "warehouse", "value": "NRTH", "side": "odoo"},
        )
        self.assertTrue(exception.can_add_mapping)
        self.assertEqual(exception.document_name, picking.display_name)
        action = exception.with_user(self.manager).action_add_mapping()
        self.assertEqual((action["res_model"], action["target"]), ("logistics.mapping", "new"))
        self.assertEqual(
            action["context"],
            {
                "default_backend_id": self.backend.id,
                "default_mapping_type": "warehouse",
                "default_odoo_value": "NRTH",
            },
        )
        mapping = (
            self.env["logistics.mapping"]
            .with_user(self.manager)
            .with_context(**action["context"])
            .create({"partner_value": "SBX-NORTH"})
        )
        self.assertEqual(
            (mapping.backend_id, mapping.mapping_type, mapping.odoo_value),
            (self.backend, "warehouse", "NRTH"),
        )
        exception.with_user(self.user).action_retry()
        self.run_jobs()
        self.assertEqual(message.state, "done", "the retry rebuilt the document")

    def test_a_missing_partner_value_prefills_the_partner_side(self):
        message = self.release()
        error = self.env["logistics.mapping"]._missing_error(self.backend, "uom", "CS", "partner")
        message._fail(error)
        exception = message.exception_ids
        self.assertEqual(exception.next_step["side"], "partner")
        context = exception.with_user(self.manager).action_add_mapping()["context"]
        self.assertEqual(context["default_partner_value"], "CS")
        self.assertNotIn("default_odoo_value", context)

    def test_other_exceptions_offer_no_mapping(self):
        self.sandbox.unknown_skus = {"WIDGET-1"}
        message = self.release()
        self.run_jobs()
        exception = message.exception_ids
        self.assertFalse(exception.can_add_mapping)
        with self.assertRaises(UserError):
            exception.with_user(self.manager).action_add_mapping()

    def test_the_form_shows_the_next_step_and_the_document_as_a_link(self):
        arch = self.arch("logistics.exception", "form", self.manager)
        [button] = arch.xpath("//header/button[@name='action_add_mapping']")
        self.assertIn("not can_add_mapping", button.get("invisible"))
        [link] = arch.xpath("//sheet//button[@name='action_open_document']")
        self.assertTrue(link.xpath("field[@name='document_name']"), "the name is the link")


class TestExceptionWork(ScreensCase):
    def setUp(self):
        super().setUp()
        # Routed to the user, who gets a To-Do activity.
        self.env["logistics.exception.rule"].create(
            {"sequence": 0, "backend_id": self.backend.id, "user_id": self.user.id}
        )
        self.sandbox.unknown_skus = {"WIDGET-1"}
        self.message = self.release()
        self.run_jobs()
        self.exception = self.message.exception_ids
        self.assertEqual(self.exception.user_id, self.user)

    def test_what_to_fix_is_written_once_not_copied_into_the_activity(self):
        activity = self.exception.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn(self.exception.name, activity.summary)
        self.assertFalse(activity.note, "the description is on the form, not again here")
        for _ in range(2):
            self.message.with_user(self.user).action_retry()
            self.run_jobs()
        notes = self.exception.message_ids.filtered(lambda m: "Happened again" in (m.body or ""))
        self.assertEqual(len(notes), 2)
        for note in notes:
            self.assertNotIn(self.exception.name, note.body, "the title is not repeated")
        self.assertEqual(self.exception.occurrence_count, 3)

    def test_assign_to_me_only_shows_to_others(self):
        self.assertTrue(self.exception.with_user(self.user).is_assigned_to_me)
        self.assertFalse(self.exception.with_user(self.manager).is_assigned_to_me)
        arch = self.arch("logistics.exception", "form", self.user)
        [button] = arch.xpath("//header/button[@name='action_assign_to_me']")
        self.assertIn("is_assigned_to_me", button.get("invisible"))

    def test_reopen_puts_a_closed_exception_back_in_new_and_audits_it(self):
        exception = self.exception.with_user(self.user)
        exception.action_resolve("Customer confirmed by phone.")
        with self.assertRaises(UserError):
            exception.action_start()
        exception.action_reopen()
        self.assertEqual(exception.state, "new")
        self.assertFalse(exception.resolution_reason or exception.resolved_by)
        self.assertEqual(exception.user_id, self.user, "keeps its assignee")
        self.assertTrue(exception.activity_ids, "the assignee has a To-Do again")
        entry = self.env["logistics.audit.log"].search(
            [("res_model", "=", "logistics.exception"), ("res_id", "=", exception.id)],
            limit=1,
        )
        self.assertEqual((entry.event, entry.user_id), ("reopen", self.user))
        self.assertIn("Previous state: Resolved", entry.details_text)
        with self.assertRaises(UserError, msg="only closed exceptions are reopened"):
            exception.action_reopen()

    def test_reopen_refuses_when_the_same_problem_is_open_again(self):
        self.exception.with_user(self.user).action_ignore("Known partner quirk.")
        self.message.with_user(self.user).action_retry()
        self.run_jobs()
        twin = self.message.exception_ids.filtered(lambda e: e.state == "new")
        self.assertTrue(twin, "the problem came back as a new exception")
        with self.assertRaisesRegex(UserError, "open again"):
            self.exception.with_user(self.user).action_reopen()

    def test_the_form_offers_reopen_on_closed_exceptions_only(self):
        arch = self.arch("logistics.exception", "form", self.user)
        [button] = arch.xpath("//header/button[@name='action_reopen']")
        self.assertEqual(button.get("invisible"), "state not in ('resolved', 'ignored')")

    def test_empty_closed_columns_show_folded(self):
        exceptions = self.env["logistics.exception"].with_user(self.user)
        groups = exceptions.web_read_group(
            [("state", "in", ("new", "in_progress")), ("backend_id", "=", self.backend.id)],
            ["state"],
            ["state"],
        )["groups"]
        by_state = {group["state"]: group for group in groups}
        self.assertEqual(set(by_state), {"new", "in_progress", "resolved", "ignored"})
        self.assertTrue(by_state["resolved"]["__fold"])
        self.assertTrue(by_state["ignored"]["__fold"])
        self.assertFalse(by_state["new"].get("__fold"))
        self.assertFalse(by_state["in_progress"].get("__fold"), "empty but open work")
        self.exception.with_user(self.user).action_resolve("Fixed.")
        groups = exceptions.web_read_group(
            [("backend_id", "=", self.backend.id)], ["state"], ["state"]
        )["groups"]
        resolved = next(group for group in groups if group["state"] == "resolved")
        self.assertFalse(resolved.get("__fold"), "a column with cards stays open")


class TestOverview(ScreensCase):
    def test_a_failed_message_whose_exception_is_closed_is_handled(self):
        self.sandbox.unknown_skus = {"WIDGET-1"}
        message = self.release()
        self.run_jobs()
        self.backend.invalidate_recordset()
        self.assertEqual((self.backend.failed_count, self.backend.open_exception_count), (1, 1))
        message.exception_ids.with_user(self.user).action_resolve("Order cancelled by sales.")
        self.backend.invalidate_recordset()
        self.assertEqual((self.backend.failed_count, self.backend.open_exception_count), (0, 0))
        self.assertEqual(self.backend.message_count, 1, "still counted among the messages")
        action = self.backend.action_view_failed_messages()
        self.assertFalse(self.env["logistics.message"].search(action["domain"]))

    def test_connection_status_in_plain_words(self):
        backend = self.backend
        self.assertEqual(backend.connection_status, "healthy")
        # Each request of the web client reads the shared breaker state afresh.
        fresh = backend.invalidate_recordset
        labels = dict(
            backend._fields["connection_status"]._description_selection(self.env),
        )
        self.assertEqual(labels["healthy"], "Connection healthy")
        self.assertEqual(labels["paused"], "Paused (partner not answering)")
        backend._breaker_record_failure("timeout")
        backend._breaker_record_failure("timeout")
        backend._breaker_record_failure("connection refused")
        fresh()
        self.assertEqual(backend.breaker_state, "open")
        self.assertEqual(backend.connection_status, "paused")
        self.assertEqual(backend.last_error, "connection refused")
        self.assertTrue(backend.last_error_is_current)
        self.age_breaker(120)
        backend._breaker_wait_seconds()
        fresh()
        self.assertEqual(backend.connection_status, "probing")
        backend._breaker_record_success()
        fresh()
        self.assertEqual(backend.connection_status, "healthy")
        self.assertFalse(backend.last_error_is_current, "a success came after it")

    def test_the_cards_colour_counts_by_value_and_show_what_to_handle(self):
        arch = self.arch("logistics.backend", "kanban", self.user)
        card = arch.xpath("//t[@t-name='card']")[0]
        colours = {
            "queued_count": "text-info",
            "failed_count": "text-warning",
            "dead_count": "text-danger",
        }
        for name, colour in colours.items():
            [node] = card.xpath(f".//div[@name='{name}']")
            self.assertEqual(
                node.get("t-attf-class"),
                f"fs-4 {{{{ record.{name}.raw_value ? '{colour}' : 'text-muted' }}}}",
            )
            self.assertTrue(node.xpath(f"field[@name='{name}']"))
        self.assertTrue(card.xpath(".//field[@name='connection_status'][@widget='badge']"))
        self.assertFalse(card.xpath(".//field[@name='breaker_state']"))
        self.assertIn("to handle", etree.tostring(card, encoding="unicode"))
        self.assertTrue(card.xpath(".//field[@name='last_error']"))


class TestPartnerForm(ScreensCase):
    def test_switching_to_production_without_its_endpoint_warns(self):
        backend = self.backend.with_user(self.manager)
        backend.environment = "production"
        self.assertTrue(backend.production_endpoint_missing)
        warning = backend._onchange_environment_warn_production()["warning"]
        self.assertEqual(warning["title"], "No production endpoint")
        self.env["logistics.backend.endpoint"].create(
            {
                "backend_id": backend.id,
                "environment": "production",
                "base_url": "https://api.partner.example/",
            }
        )
        backend.invalidate_recordset()
        self.assertFalse(backend.production_endpoint_missing)
        self.assertIsNone(backend._onchange_environment_warn_production())
        backend.environment = "test"
        self.assertFalse(backend.production_endpoint_missing)

    def test_the_endpoint_shows_the_settings_of_its_transport(self):
        endpoint = self.backend.sudo().endpoint_ids
        self.assertEqual(self.backend.adapter, "generic_rest")
        self.assertEqual((endpoint.transport_kind, endpoint.use_sftp), ("rest", False))
        endpoint.sftp_host = "sftp.partner.example"
        self.assertEqual((endpoint.transport_kind, endpoint.use_sftp), ("both", True))
        arch = self.arch("logistics.backend", "form", self.manager)
        [sftp] = arch.xpath("//group[@name='sftp']")
        self.assertEqual(sftp.get("invisible"), "transport_kind == 'rest' and not use_sftp")
        [rest] = arch.xpath("//group[@name='rest']")
        self.assertEqual(rest.get("invisible"), "transport_kind == 'sftp'")

    def test_a_manager_reveals_the_signing_secret_and_it_is_audited(self):
        action = self.backend.with_user(self.manager).action_show_webhook_secret()
        self.assertIn(self.backend.sudo().webhook_secret, action["params"]["message"])
        self.assertTrue(action["params"]["sticky"])
        entry = self.env["logistics.audit.log"].search(
            [("backend_id", "=", self.backend.id), ("summary", "like", "shown to")]
        )
        self.assertEqual(entry.user_id, self.manager)
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).action_show_webhook_secret()

    def test_rotating_shows_the_new_secret_at_once(self):
        old = self.backend.sudo().webhook_secret
        action = self.backend.with_user(self.manager).action_rotate_webhook_secret()
        new = self.backend.sudo().webhook_secret
        self.assertNotEqual(new, old)
        self.assertIn(new, action["params"]["message"])
        self.assertNotIn(old, action["params"]["message"])

    def test_the_secret_can_be_copied_without_being_shown(self):
        arch = self.arch("logistics.backend", "form", self.manager)
        widgets = {node.get("widget") for node in arch.xpath("//field[@name='webhook_secret']")}
        self.assertIn("CopyClipboardButton", widgets)
        [masked] = arch.xpath("//field[@name='webhook_secret'][@password='True']")
        self.assertIsNotNone(masked)
        self.assertFalse(
            self.arch("logistics.backend", "form", self.user).xpath(
                "//field[@name='webhook_secret'] | //button[@name='action_show_webhook_secret']"
            )
        )


class TestJargon(ScreensCase):
    def test_technical_ids_only_in_debug_mode(self):
        hidden = {
            "logistics.message": ("correlation_id", "idempotency_key", "document_schema"),
            "logistics.exception": ("correlation_id",),
            "logistics.audit.log": ("correlation_id", "entry_hash", "prev_hash"),
            "logistics.backend": ("channel_name", "backoff_jitter"),
        }
        for model, names in hidden.items():
            arch = self.arch(model, "form", self.manager)
            for name in names:
                self.assertFalse(arch.xpath(f"//field[@name='{name}']"), f"{model}.{name}")
        search = self.arch("logistics.message", "search", self.user)
        self.assertTrue(search.xpath("//field[@name='correlation_id']"), "still searchable")

    def test_audit_details_read_as_label_old_new_lines(self):
        self.backend.with_user(self.manager).write({"environment": "production"})
        entry = self.env["logistics.audit.log"].search(
            [("backend_id", "=", self.backend.id), ("event", "=", "config_change")], limit=1
        )
        self.assertEqual(entry.details_text, "Environment: Test -> Production")
        self.backend.with_user(self.manager).write({"partner_id": self.customer.id})
        entry = self.env["logistics.audit.log"].search(
            [("backend_id", "=", self.backend.id), ("event", "=", "config_change")], limit=1
        )
        self.assertEqual(entry.details_text, "Contact: (empty) -> Ada Customer")

    def test_exception_audit_names_the_exception_not_its_id(self):
        exception = self.env["logistics.exception"].raise_exception(
            "damaged_goods", "Pallet 12 crushed", "Claim it.", backend=self.backend
        )
        exception.with_user(self.user).action_resolve("Claimed with the carrier.")
        entry = self.env["logistics.audit.log"].search(
            [("res_model", "=", "logistics.exception"), ("res_id", "=", exception.id)], limit=1
        )
        lines = entry.details_text.splitlines()
        self.assertIn("Exception: Pallet 12 crushed", lines)
        self.assertIn("Type: Damaged Goods", lines)
        self.assertIn("Reason: Claimed with the carrier.", lines)
        self.assertNotIn("exception_id", entry.details_text)
        arch = self.arch("logistics.audit.log", "form", self.user)
        self.assertTrue(arch.xpath("//field[@name='details_text']"))
        self.assertFalse(arch.xpath("//field[@name='details']"), "the JSON in debug mode only")


class TestLists(ScreensCase):
    def test_the_summary_and_name_columns_get_the_room(self):
        exceptions = self.arch("logistics.exception", "list", self.user)
        for name in ("occurrence_count", "age_display"):
            [column] = exceptions.xpath(f"//field[@name='{name}']")
            self.assertEqual(column.get("optional"), "hide", name)
        [column] = exceptions.xpath("//field[@name='name']")
        self.assertFalse(column.get("optional"), "the summary is always shown")
        [column] = self.arch("logistics.message", "list", self.user).xpath("//field[@name='name']")
        self.assertEqual(column.get("width"), "110px", "LCM0000123 is never cut")

    def test_the_whole_story_is_named_by_the_document_not_the_correlation_id(self):
        picking = self.make_picking()
        message = self.release(picking)
        action = message.action_view_correlated()
        self.assertEqual(action["name"], f"Whole story of {picking.name}")
        self.assertNotIn(message.correlation_id, action["name"])

    def test_the_search_box_finds_references_containing_the_value_whatever_its_form(self):
        messages = self.env["logistics.message"]
        for reference in ("WH/OUT/0012345", "WH/IN/0012345", "WH/OUT/0012346", "PO/9912345/A"):
            messages |= messages._create_outbound(
                self.backend,
                "order_release",
                document={"schema": "order_release/1", "reference": reference},
                idempotency_key=reference,
                enqueue=False,
            )

        def found(value):
            domain = [("id", "in", messages.ids), ("reference", "ilike", value)]
            return sorted(messages.search(domain).mapped("reference"))

        self.assertEqual(found("wh/out/0012345"), ["WH/OUT/0012345"])
        self.assertEqual(found("OUT/00123"), ["WH/OUT/0012345", "WH/OUT/0012346"])
        self.assertEqual(found("12345"), ["PO/9912345/A", "WH/IN/0012345", "WH/OUT/0012345"])
        self.assertEqual(found("WH/%/0012345"), ["WH/IN/0012345", "WH/OUT/0012345"])
        self.assertEqual(found("9912345/a"), ["PO/9912345/A"])
        self.assertEqual(found("IN/00123"), ["WH/IN/0012345"])
        self.assertEqual(found("WH/OUT/9"), [])
