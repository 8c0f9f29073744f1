from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError

from .common import PARTNER_TOKEN, LogisticsCase


class TestOutboundPipeline(LogisticsCase):
    def test_order_release_goes_end_to_end_through_the_partner(self):
        picking = self.make_picking(quantity=4)
        message = self.release(picking)
        self.assertEqual(message.state, "queued", "written and queued in the business transaction")
        job = self.jobs_for(message)
        self.assertEqual(len(job), 1)
        self.assertEqual(job.channel, "root.logistics.sandbox_3pl")

        self.run_jobs()

        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempts, 1)
        self.assertTrue(message.external_id, "the partner's id is kept")
        [stored] = self.sandbox.documents("orders")
        document = stored["data"]
        self.assertEqual(document["reference"], picking.name)
        self.assertEqual(document["warehouse_code"], "SBX-WH1", "the mapping was applied")
        self.assertEqual(document["lines"][0]["sku"], "WIDGET-1")
        self.assertEqual(document["lines"][0]["quantity"], 4)
        post = next(r for r in self.sandbox.requests if r["method"] == "POST")
        self.assertEqual(post["headers"]["X-Correlation-ID"], picking.logistics_correlation_id)
        self.assertEqual(post["headers"]["Idempotency-Key"], message.idempotency_key)
        self.assertEqual(message.correlation_id, picking.logistics_correlation_id)
        self.assertEqual(picking.logistics_message_count, 1)
        audit = self.env["logistics.audit.log"].search([("message_id", "=", message.id)])
        self.assertIn("send", audit.mapped("event"))
        self.assertEqual(set(audit.mapped("correlation_id")), {message.correlation_id})

    def test_same_exchange_is_created_once(self):
        picking = self.make_picking()
        first = self.release(picking)
        second = self.release(picking)
        self.assertEqual(first, second)
        self.assertEqual(len(self.jobs_for(first)), 1)

    def test_transient_error_retries_with_backoff_then_succeeds(self):
        self.sandbox.inject("status", status=503)
        message = self.release()
        self.run_jobs()
        self.assertEqual(message.state, "retry")
        self.assertEqual(message.attempts, 1)
        self.assertEqual(message.error_class, "transient")
        # backoff_base 10s without jitter: the first retry waits 10 seconds
        delay = (message.next_attempt_at - fields.Datetime.now()).total_seconds()
        self.assertTrue(8 <= delay <= 11, delay)
        self.assertEqual(self.run_jobs(), [], "the retry waits for its ETA")
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempts, 2)
        self.assertEqual(len(self.sandbox.documents("orders")), 1)
        message.invalidate_recordset(["attempt_ids"])
        self.assertEqual(len(message.attempt_ids), 2)

    def test_retry_after_is_honoured(self):
        self.sandbox.inject("rate_limit", retry_after=300)
        message = self.release()
        self.run_jobs()
        self.assertEqual(message.state, "retry")
        delay = (message.next_attempt_at - fields.Datetime.now()).total_seconds()
        self.assertGreaterEqual(delay, 298, "Retry-After wins over the 10 s backoff")

    def test_a_retry_asks_the_partner_before_sending_again(self):
        # The partner stores the order, then the answer is lost (504).
        self.sandbox.inject("accept_then_fail", method="POST")
        message = self.release()
        self.run_jobs()
        self.assertEqual(message.state, "retry")
        self.assertEqual(len(self.sandbox.documents("orders")), 1)
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self.sandbox.documents("orders")), 1, "no duplicate order")
        lookups = [r for r in self.sandbox.requests if r["method"] == "GET"]
        self.assertEqual(lookups[0]["query"].get("reference"), message.reference)
        self.assertTrue(message.external_id)

    def test_business_rejection_fails_with_an_exception_saying_why(self):
        self.sandbox.unknown_skus = {"WIDGET-1"}
        message = self.release()
        self.run_jobs()
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_class, "business")
        self.assertIn("unknown SKU WIDGET-1", message.error_message)
        exception = message.exception_ids
        self.assertEqual(exception.exception_type, "partner_rejected")
        self.assertIn("unknown SKU WIDGET-1", exception.description)
        self.assertEqual(
            self.jobs_for(message).filtered(lambda j: j.state == "pending"), self.env["queue.job"]
        )

    def test_attempts_exhausted_make_a_dead_message(self):
        self.backend.breaker_threshold = 100
        self.sandbox.inject("status", count=10, status=502)
        message = self.release()
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempts, 3)
        self.assertEqual(message.exception_ids.severity, "high")
        self.assertEqual(message.exception_ids.exception_type, "service_unavailable")

    def test_missing_mapping_names_what_to_add(self):
        other_warehouse = self.env["stock.warehouse"].create({"name": "North", "code": "NRTH"})
        picking_type = other_warehouse.out_type_id
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self.customer.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Widget",
                            "product_id": self.product.id,
                            "product_uom_qty": 1,
                            "product_uom": self.product.uom_id.id,
                            "location_id": picking_type.default_location_src_id.id,
                            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                        },
                    )
                ],
            }
        )
        message = self.release(picking)
        self.assertEqual(
            message.state, "failed", "no job is queued for a message that cannot be built"
        )
        self.assertEqual(message.error_class, "mapping")
        self.assertIn("No Warehouse mapping for the Odoo value 'NRTH'", message.error_message)
        self.assertEqual(message.exception_ids.exception_type, "mapping_missing")

    def test_invalid_document_is_refused_before_any_send(self):
        message = self.env["logistics.message"]._create_outbound(
            self.backend,
            "order_release",
            document={"schema": "order_release/1", "reference": "X-1", "lines": []},
        )
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_class, "validation")
        self.assertIn("warehouse_code", message.exception_ids.description)
        self.assertFalse(self.sandbox.requests)


class TestCircuitBreaker(LogisticsCase):
    def test_breaker_opens_postpones_without_burning_attempts_and_closes(self):
        self.sandbox.inject("status", count=3, status=503)
        messages = self.release() | self.release() | self.release()
        self.run_jobs()
        self.assertEqual(self.backend.breaker_state, "open")
        self.assertEqual(set(messages.mapped("state")), {"retry"})
        partner_down = self.env["logistics.exception"].search(
            [("backend_id", "=", self.backend.id), ("exception_type", "=", "partner_down")]
        )
        self.assertEqual(len(partner_down), 1)

        waiting = self.release()
        self.run_jobs(ignore_eta=True, limit=1, only=waiting)
        self.assertEqual(waiting.attempts, 0, "postponed while open: no attempt burnt")
        self.assertIn(waiting.state, ("queued", "retry"))
        self.assertTrue(waiting.next_attempt_at)

        self.age_breaker(61)
        self.run_jobs(ignore_eta=True)
        self.assertEqual(self.backend.breaker_state, "closed", "the probe succeeded")
        self.assertEqual(set((messages | waiting).mapped("state")), {"done"})

    def test_failed_probe_reopens_the_breaker(self):
        self.backend.breaker_threshold = 1
        self.env.flush_all()
        self.sandbox.inject("status", count=2, status=503)
        message = self.release()
        self.run_jobs()
        self.assertEqual(self.backend.breaker_state, "open")
        self.age_breaker(61)
        self.assertEqual(self.backend._breaker_wait_seconds(), 0, "one probe may go")
        self.assertEqual(self.backend.breaker_state, "half_open")
        self.assertGreater(self.backend._breaker_wait_seconds(), 0, "a second worker waits")
        self.backend._breaker_record_failure("still down")
        self.assertEqual(self.backend.breaker_state, "open")
        self.assertEqual(message.attempts, 1)


class TestManualActions(LogisticsCase):
    def test_staff_retry_managers_replay_and_both_are_audited(self):
        self.sandbox.unknown_skus = {"WIDGET-1"}
        message = self.release()
        self.run_jobs()
        self.assertEqual(message.state, "failed")
        self.sandbox.unknown_skus = set()
        answer = message.with_user(self.user).action_retry()
        self.assertEqual(answer["params"]["message"], "1 message(s) queued again")
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual(
            message.exception_ids.state, "resolved", "the exception closes once it got through"
        )
        with self.assertRaisesRegex(UserError, "not allowed to replay"):
            message.with_user(self.user).action_replay()
        message.with_user(self.manager).action_replay()
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self.sandbox.documents("orders")), 1, "the partner deduplicated")
        events = self.env["logistics.audit.log"].search([("message_id", "=", message.id)])
        self.assertEqual(events.filtered(lambda e: e.event == "retry").user_id, self.user)
        self.assertEqual(events.filtered(lambda e: e.event == "replay").user_id, self.manager)

    def test_nobody_writes_message_fields_directly(self):
        message = self.release()
        for person in (self.user, self.manager):
            with self.assertRaises(AccessError):
                message.with_user(person).write({"state": "done"})
        self.assertEqual(message.state, "queued")

    def test_bulk_retry(self):
        self.sandbox.unknown_skus = {"WIDGET-1"}
        messages = self.release() | self.release() | self.release()
        self.run_jobs()
        self.assertEqual(set(messages.mapped("state")), {"failed"})
        self.sandbox.unknown_skus = set()
        messages.with_user(self.manager).action_retry()
        self.run_jobs()
        self.assertEqual(set(messages.mapped("state")), {"done"})


class TestRecoveryAndRetention(LogisticsCase):
    def test_stuck_message_of_a_killed_worker_is_recovered(self):
        message = self.release()
        job = self.jobs_for(message)
        # The worker took the job and died: queue_job says started, nothing finished.
        job.write({"state": "started", "date_started": fields.Datetime.now() - timedelta(hours=1)})
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_message SET state = 'in_progress', write_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(hours=1), message.id),
        )
        message.invalidate_recordset()
        recovered = self.env["logistics.message"]._cron_recover_stuck()
        self.assertIn(message, recovered)
        self.run_jobs()
        self.assertEqual(message.state, "done")

    def kill_worker_mid_attempt(self, message):
        """What a worker killed inside the partner call leaves: its attempt record (committed
        before the call), a job queue_job still thinks started, and none of the job's writes."""
        message._record_attempt_start()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE queue_job SET state = 'started', date_started = %s WHERE uuid = %s",
            (fields.Datetime.now() - timedelta(hours=1), message.job_uuid),
        )
        self.env.cr.execute(
            "UPDATE logistics_message SET write_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(hours=1), message.id),
        )
        self.env.invalidate_all()

    def test_a_worker_dying_in_every_attempt_ends_dead_not_in_a_loop(self):
        message = self.release()
        for _attempt in range(self.backend.max_attempts):
            self.kill_worker_mid_attempt(message)
            self.assertIn(message, self.env["logistics.message"]._cron_recover_stuck())
        self.assertEqual(message.attempts, 0, "each job's own writes were rolled back")
        self.run_jobs()
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempts, 3)
        self.assertFalse(self.sandbox.requests, "no 4th call to the partner")
        exception = message.exception_ids
        self.assertEqual(exception.severity, "high")
        self.assertIn("3 of 3 attempts never finished", exception.description)
        # A person retries: the count starts again from there.
        message.with_user(self.manager).action_retry()
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempts, 1)

    def test_recovery_reads_only_stuck_messages_in_bounded_batches(self):
        from ..models import logistics_message

        self.patch(logistics_message, "CRON_BATCH", 1)
        waiting = self.release()  # its job is pending: it waits on purpose
        stuck = self.release()
        self.env.flush_all()
        old = fields.Datetime.now() - timedelta(hours=1)
        self.env.cr.execute(
            "UPDATE logistics_message SET write_date = %s WHERE id IN %s",
            (old, (waiting.id, stuck.id)),
        )
        self.env.cr.execute("DELETE FROM queue_job WHERE uuid = %s", (stuck.job_uuid,))
        self.env.invalidate_all()
        recovered = self.env["logistics.message"]._cron_recover_stuck()
        self.assertEqual(recovered, stuck, "the waiting message with a lower id is not in the way")

    def test_the_hot_lookups_have_their_indexes(self):
        self.env.cr.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'logistics_message'"
        )
        names = {row[0] for row in self.env.cr.fetchall()}
        for index in (
            "logistics_message_document_idx",
            "logistics_message_ack_pending_idx",
            "logistics_message_open_idx",
            "logistics_message_backend_attention_idx",
        ):
            self.assertIn(index, names)
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'logistics_message__reference_index'"
        )
        self.assertIn("gin_trgm_ops", self.env.cr.fetchone()[0], "references searched by a part")

    def test_live_messages_are_left_alone(self):
        message = self.release()
        self.assertFalse(self.env["logistics.message"]._cron_recover_stuck())
        self.assertEqual(message.state, "queued")

    def test_retention_purges_old_payloads_then_old_messages(self):
        message = self.release()
        self.run_jobs()
        self.assertTrue(message.wire_request)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_message SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(days=100), message.id),
        )
        message.invalidate_recordset()
        result = self.env["logistics.message"]._cron_purge()
        self.assertEqual(result["payloads_purged"], 1)
        self.assertFalse(message.wire_request)
        self.assertTrue(message.exists())
        self.env.cr.execute(
            "UPDATE logistics_message SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(days=400), message.id),
        )
        message.invalidate_recordset()
        self.env.flush_all()
        self.env["logistics.message"]._cron_purge()
        self.assertFalse(message.exists())

    def test_closed_exceptions_and_their_chatter_are_purged_after_their_retention(self):
        self.sandbox.unknown_skus = {"WIDGET-1"}
        message = self.release()
        self.run_jobs()
        exception = message.exception_ids
        exception.action_ignore("Duplicate order, handled by phone")
        open_one = self.env["logistics.exception"].raise_exception(
            "other", "Still open", "x", backend=self.backend
        )
        chatter = self.env["mail.message"].search(
            [("model", "=", "logistics.exception"), ("res_id", "=", exception.id)]
        )
        self.assertTrue(chatter)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_exception SET resolved_at = %s, create_date = %s",
            (fields.Datetime.now() - timedelta(days=400),) * 2,
        )
        self.env.invalidate_all()
        result = self.env["logistics.message"]._cron_purge()
        self.assertGreaterEqual(result["exceptions_deleted"], 1)
        self.assertFalse(exception.exists())
        self.assertFalse(chatter.exists(), "its chatter goes with it")
        self.assertTrue(open_one.exists(), "open work is never purged")


class TestConnection(LogisticsCase):
    def test_test_connection_reports_in_plain_words(self):
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn("answered 200", result["params"]["message"])
        self.backend.endpoint_ids.token = "wrong-token"
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn("refused the credentials", result["params"]["message"])
        self.assertNotIn(PARTNER_TOKEN, str(result))


class TestReviewedEdges(LogisticsCase):
    def test_retry_after_fixing_a_mapping_rebuilds_the_document(self):
        north = self.env["stock.warehouse"].create({"name": "North", "code": "NRTH"})
        picking = self.make_picking()
        picking.picking_type_id = north.out_type_id
        message = self.release(picking)
        self.assertEqual(message.error_class, "mapping")
        self.env["logistics.mapping"].create(
            {
                "backend_id": self.backend.id,
                "mapping_type": "warehouse",
                "odoo_value": "NRTH",
                "partner_value": "SBX-NORTH",
            }
        )
        message.with_user(self.manager).action_retry()
        self.run_jobs()
        self.assertEqual(message.state, "done")
        [stored] = self.sandbox.documents("orders")
        self.assertEqual(stored["data"]["warehouse_code"], "SBX-NORTH")
        self.assertEqual(message.exception_ids.state, "resolved")

    def test_a_superseded_job_does_nothing(self):
        message = self.release()
        first_job = self.jobs_for(message)
        message._enqueue(eta=600)  # e.g. a probe scheduled while the first job still waits
        self.assertEqual(len(self.jobs_for(message)), 2)
        self.assertEqual(self.run_jobs(), ["superseded: a newer job handles this message"])
        self.assertEqual(first_job.state, "done")
        self.assertEqual(message.attempts, 0)
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempts, 1)
        self.assertEqual(len(self.sandbox.documents("orders")), 1)

    def test_enqueueing_twice_the_same_way_makes_one_job(self):
        message = self.release()
        message._enqueue()
        self.assertEqual(len(self.jobs_for(message)), 1, "queue_job's identity key dedups")

    def test_a_cancelled_release_can_be_made_again_on_request(self):
        picking = self.make_picking()
        first = self.release(picking)
        first.with_user(self.manager).action_cancel()
        self.assertEqual(self.release(picking), first, "cancelled stays cancelled by default")
        second = self.release(picking, new_revision=True)
        self.assertNotEqual(first, second)
        self.assertEqual(second.idempotency_key, f"{first.idempotency_key}#2")
        self.run_jobs()
        self.assertEqual((first.state, second.state), ("cancelled", "done"))

    def test_a_new_revision_asks_the_partner_whether_the_cancelled_one_landed(self):
        picking = self.make_picking()
        self.sandbox.inject("accept_then_fail", method="POST")
        first = self.release(picking)
        self.run_jobs()
        self.assertEqual(first.state, "retry")
        first.with_user(self.manager).action_cancel()
        second = self.release(picking, new_revision=True)
        self.run_jobs()
        self.assertEqual(second.state, "done")
        self.assertEqual(len(self.sandbox.documents("orders")), 1, "no second order")

    def test_overdue_acknowledgement_opens_one_exception(self):
        self.env["logistics.backend.flow"].create(
            {
                "backend_id": self.backend.id,
                "flow": "order_release",
                "direction": "outbound",
                "ack_expected_minutes": 30,
            }
        )
        message = self.release()
        self.run_jobs()
        self.assertTrue(message.ack_due_at)
        Message = self.env["logistics.message"]
        self.assertFalse(Message._cron_ack_overdue(), "not due yet")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_message SET ack_due_at = now() at time zone 'UTC' - interval '1 "
            "minute' WHERE id = %s",
            (message.id,),
        )
        message.invalidate_recordset()
        self.assertEqual(Message._cron_ack_overdue(), message)
        self.assertFalse(Message._cron_ack_overdue(), "raised once, not every run")
        exception = message.exception_ids
        self.assertEqual(exception.exception_type, "ack_overdue")
        message.with_user(self.manager).action_replay()
        self.run_jobs()
        self.assertFalse(message.ack_overdue_raised, "a replay is watched for its ack anew")

    def test_realtime_message_left_pending_is_picked_up(self):
        message = self.release(enqueue=False)
        self.assertEqual(message.state, "pending")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_message SET write_date = now() at time zone 'UTC' - interval "
            "'1 hour' WHERE id = %s",
            (message.id,),
        )
        message.invalidate_recordset()
        self.assertIn(message, self.env["logistics.message"]._cron_recover_stuck())
        self.run_jobs()
        self.assertEqual(message.state, "done")

    def test_zero_retention_keeps_messages_forever(self):
        message = self.release()
        self.run_jobs()
        self.env["ir.config_parameter"].set_param("logistics_connector.message_retention_days", "0")
        self.env["ir.config_parameter"].set_param(
            "logistics_connector.payload_retention_days", "not a number"
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_message SET create_date = create_date - interval '5000 days' "
            "WHERE id = %s",
            (message.id,),
        )
        message.invalidate_recordset()
        result = self.env["logistics.message"]._cron_purge()
        self.assertEqual(result["messages_deleted"], 0)
        self.assertTrue(message.exists())


class TestRateLimit(LogisticsCase):
    def test_slots_are_booked_one_interval_apart_for_all_workers(self):
        self.backend.rate_limit = 0.5  # one request every 2 seconds
        self.env.flush_all()
        slots = [self.backend._rate_limit_slot(10) for _ in range(3)]
        self.assertEqual([booked for booked, _wait in slots], [True, True, True])
        self.assertLess(slots[0][1], 0.5, "the first request goes at once")
        self.assertAlmostEqual(slots[1][1], 2.0, delta=0.5)
        self.assertAlmostEqual(slots[2][1], 4.0, delta=0.5)

    def test_a_far_slot_is_not_booked(self):
        self.backend.rate_limit = 0.1  # one request every 10 seconds
        self.env.flush_all()
        self.assertTrue(self.backend._rate_limit_slot(2)[0])
        for _ in range(3):
            booked, wait = self.backend._rate_limit_slot(2)
            self.assertFalse(booked)
            self.assertAlmostEqual(wait, 10, delta=1, msg="waiting jobs do not push it back")

    def test_a_postponed_job_goes_when_its_slot_comes(self):
        self.backend.rate_limit = 0.1
        self.env.flush_all()
        first, second = self.release(), self.release()
        self.run_jobs(only=first)
        self.assertEqual(first.state, "done")
        self.run_jobs(only=second, limit=1)
        self.assertEqual((second.state, second.attempts), ("queued", 0))
        self.assertGreater((second.next_attempt_at - fields.Datetime.now()).total_seconds(), 5)
        self.assertEqual(len(self.sandbox.documents("orders")), 1)
        # Ten seconds later (moved back in time here), the slot is free.
        self.env.cr.execute(
            "UPDATE logistics_backend SET rate_next_slot_at = rate_next_slot_at - interval "
            "'11 seconds' WHERE id = %s",
            (self.backend.id,),
        )
        self.run_jobs(ignore_eta=True, only=second)
        self.assertEqual((second.state, second.attempts), ("done", 1))
