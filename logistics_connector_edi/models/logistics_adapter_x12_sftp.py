import logging
import posixpath
from datetime import timedelta
from types import SimpleNamespace

from odoo import api, fields, models
from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
    DocumentValidationError,
    LogisticsError,
)
from odoo.addons.logistics_connector_base.models.db_tools import autonomous_cursor

from ..const import X12_SETS
from ..lib import canonical_x12
from ..x12 import (
    FunctionalGroup,
    Interchange,
    SerializationError,
    Serializer,
    TransactionSet,
    UnreadableFile,
    X12Reader,
    build_acknowledgements,
    parse_isa,
    validate,
)
from ..x12.codes import FUNCTIONAL_IDS

_logger = logging.getLogger(__name__)

# findings quoted in an exception; the interchange record keeps them all
MAX_FINDINGS_SHOWN = 20


class LogisticsAdapterX12Sftp(models.AbstractModel):
    """X12 files over SFTP: 940 out from order releases, 945/944/846/997 in, a 997 out for
    every functional group received. Files are validated by the addon's X12 engine with the
    partner's restrictions; control numbers come from the partner's sequences and are
    recorded (committed) before a file is uploaded."""

    _name = "logistics.adapter.x12_sftp"
    _inherit = "logistics.adapter"
    _description = "X12 EDI over SFTP"

    _INTERCHANGE_FIELDS = (
        "control_number",
        "group_control_numbers",
        "set_summary",
        "file_name",
        "prepared_at",
        "sent_text",
    )

    # ---- outbound ----------------------------------------------------------------------------
    @api.model
    def _send(self, message, resend=False):
        backend = message.backend_id
        # the partner's mapping says which set a flow is written as (checked to fit the flow)
        set_id = backend._x12_set_of_flow(message.flow)
        self._check_partner_ids(backend)
        document = message.canonical_payload
        interchange_record = self._outbound_interchange(message, set_id)
        interchange = self._outbound_interchange_document(
            backend, message, document, set_id, interchange_record
        )
        text = self._serialize(backend, interchange)
        data = text.encode("ascii")
        endpoint = backend._get_endpoint()
        folder = endpoint.get("sftp_outbound_folder") or "inbound"
        name = interchange_record.file_name
        with backend._sftp_transport() as sftp:
            if not (resend and sftp.exists(posixpath.join(folder, name))):
                sftp.upload_atomic(folder, name, data)
        message.write({"external_id": name})
        if not interchange_record.sent_text:
            with autonomous_cursor(self.env) as cr:
                sent = self.env(cr=cr)["logistics.x12.interchange"].sudo()
                sent = sent.browse(interchange_record.id)
                sent.sent_text = text
                sent.flush_recordset()
        return {
            "file": name,
            "interchange": interchange_record.control_number,
            "group": interchange_record.group_control_numbers,
            "sets": interchange_record.set_summary,
        }

    @api.model
    def _check_partner_ids(self, backend):
        if not (backend.x12_our_id and backend.x12_partner_id):
            raise ConfigurationError(
                self.env._(
                    "%(name)s has no interchange IDs: fill in Our Interchange ID and Partner "
                    "Interchange ID on its EDI tab.",
                    name=backend.name,
                )
            )

    @api.model
    def _outbound_interchange(self, message, set_id):
        """The interchange record of ``message``: on a retry the one recorded before the
        first upload (same control numbers, same file), else a new one with numbers drawn
        from the partner's sequences and committed before anything leaves."""
        interchanges = self.env["logistics.x12.interchange"].sudo()
        existing = interchanges.search(
            [("message_id", "=", message.id), ("direction", "=", "outbound")], limit=1
        )
        if existing:
            return SimpleNamespace(
                **{name: existing[name] for name in self._INTERCHANGE_FIELDS}, id=existing.id
            )
        backend = message.backend_id
        isa13, gs06, st02 = backend._x12_next_control_numbers()
        sets = [st02]
        if set_id == "997":
            extra = len(message.canonical_payload["extensions"]["x12"]["sets"]) - 1
            sets += [backend._x12_next_control_numbers()[2] for _ in range(max(extra, 0))]
        ack_minutes = backend._flow_setting(message.flow, "outbound").ack_expected_minutes
        now = fields.Datetime.now()
        values = {
            "prepared_at": now,
            "backend_id": backend.id,
            "message_id": message.id,
            "direction": "outbound",
            "control_number": f"{isa13:09d}",
            "sender": f"{backend.x12_our_qualifier}/{backend.x12_our_id}",
            "receiver": f"{backend.x12_partner_qualifier}/{backend.x12_partner_id}",
            "usage": backend.x12_usage_indicator,
            "group_control_numbers": str(gs06),
            "functional_ids": FUNCTIONAL_IDS[set_id],
            "set_summary": ", ".join(f"{set_id} {number:04d}" for number in sets),
            "file_name": f"{set_id}_{isa13:09d}.x12",
            "result": "accepted",
            "ack_received": "pending" if set_id != "997" else "not_expected",
            "ack_due_at": now + timedelta(minutes=ack_minutes)
            if ack_minutes and set_id != "997"
            else False,
        }
        # committed before anything leaves; this job's own transaction may not see the row
        # (its snapshot is older), so the values are carried on rather than read back
        with autonomous_cursor(self.env) as cr:
            record = self.env(cr=cr)["logistics.x12.interchange"].sudo().create(values)
            record_id = record.id
        return SimpleNamespace(
            **{name: values[name] for name in self._INTERCHANGE_FIELDS if name in values},
            sent_text=False,
            id=record_id,
        )

    @api.model
    def _outbound_interchange_document(self, backend, message, document, set_id, record):
        set_numbers = [int(item.split()[1]) for item in record.set_summary.split(", ")]
        if set_id == "940":
            bodies = [canonical_x12.order_release_to_940(document)]
            segments_before_groups = []
        elif set_id == "943":
            bodies = [canonical_x12.receipt_to_943(document)]
            segments_before_groups = []
        elif set_id == "856":
            bodies = [canonical_x12.shipment_to_856(document)]
            segments_before_groups = []
        else:
            x12 = document["extensions"]["x12"]
            bodies = [[(s[0], s[1:]) for s in body] for body in x12["sets"]]
            segments_before_groups = [(s[0], s[1:]) for s in x12.get("ta1") or []]
        group = FunctionalGroup(
            FUNCTIONAL_IDS[set_id],
            backend.x12_our_application or backend.x12_our_id,
            backend.x12_partner_application or backend.x12_partner_id,
            int(record.group_control_numbers),
            backend.x12_version or "004010",
            sets=[
                TransactionSet(set_id, number, body)
                for number, body in zip(set_numbers, bodies, strict=False)
            ],
            date=record.prepared_at,
        )
        return Interchange(
            backend.x12_our_qualifier,
            backend.x12_our_id,
            backend.x12_partner_qualifier,
            backend.x12_partner_id,
            int(record.control_number),
            usage=backend.x12_usage_indicator,
            ack_requested=backend.x12_request_ta1,
            groups=[group] if bodies else [],
            interchange_segments=segments_before_groups,
            date=record.prepared_at,
        )

    @api.model
    def _serialize(self, backend, interchange):
        """The interchange as text, checked against the partner's rules before it leaves."""
        rules = backend._x12_rules()
        try:
            text = Serializer(
                backend._x12_delimiters(), backend._x12_line_break(), charset=rules.charset
            ).serialize(interchange)
        except SerializationError as error:
            raise DocumentValidationError(
                self.env._(
                    "The document cannot be written as X12 for %(partner)s: %(problems)s",
                    partner=backend.name,
                    problems="; ".join(error.problems[:MAX_FINDINGS_SHOWN]),
                ),
                errors=error.problems,
            ) from None
        report = validate(text, rules=rules)
        if report.status not in ("accepted", "accepted_with_errors"):
            findings = report.findings()
            raise DocumentValidationError(
                self.env._(
                    "The X12 file for %(partner)s would break its rules (fix the data or the "
                    "mappings, e.g. a Unit mapping to a 2-letter X12 unit such as EA):\n%(f)s",
                    partner=backend.name,
                    f="\n".join(findings[:MAX_FINDINGS_SHOWN]),
                ),
                errors=findings,
            )
        return text

    # ---- inbound -----------------------------------------------------------------------------
    @api.model
    def _file_flow(self, backend, name, data, default_flow):
        """The flow of an X12 file: the partner's mapping of the first set it carries (ST01;
        GS01 when the head of the file shows no ST). A set without a mapping stays on the
        polling flow; decoding it explains why it is refused."""
        set_id = self._first_set_id(data)
        return (set_id and backend._x12_flow_of_set(set_id)) or default_flow

    @api.model
    def _first_set_id(self, data):
        """ST01 of the first transaction set in the head of ``data`` (or the set its first
        GS01 stands for), None when the head is not X12."""
        try:
            head = data[:4096].decode("ascii", "replace")
            start = head.index("ISA")
            _elements, delimiters = parse_isa(head[start : start + 106])
        except (ValueError, UnreadableFile):
            return None
        group_id = None
        for segment in head[start + 106 :].split(delimiters.segment):
            elements = segment.strip("\r\n").split(delimiters.element)
            if elements[0] == "ST" and len(elements) > 1:
                return elements[1]
            if elements[0] == "GS" and len(elements) > 1 and group_id is None:
                group_id = elements[1]
        sets_by_group = {group: set_id for set_id, group in FUNCTIONAL_IDS.items()}
        return sets_by_group.get(group_id)

    @api.model
    def _decode(self, message):
        backend = message.backend_id
        self._check_partner_ids(backend)
        try:
            rules = backend._x12_rules()
        except ValueError as error:
            raise ConfigurationError(
                self.env._("Partner Restrictions of %(name)s: %(e)s", name=backend.name, e=error)
            ) from None
        ledger = self.env["logistics.x12.interchange"].sudo()

        def already_received(sender, receiver, number):
            return bool(
                ledger.search_count(
                    [
                        ("backend_id", "=", backend.id),
                        ("direction", "=", "inbound"),
                        ("sender", "=", "/".join(sender)),
                        ("receiver", "=", "/".join(receiver)),
                        ("control_number", "=", number),
                        ("result", "in", ("accepted", "accepted_with_errors")),
                        ("message_id", "!=", message.id),
                    ],
                    limit=1,
                )
            )

        reader = X12Reader(
            message._raw_payload(),
            rules=rules,
            is_duplicate_interchange=already_received,
            expected_receiver=(backend.x12_our_qualifier, backend.x12_our_id),
        )
        received = list(reader)  # one file's sets: the job decodes all or nothing
        report = reader.report
        self._refuse_unmapped_sets(backend, report)
        findings = report.findings()
        refused = report.status in ("rejected", "unreadable")
        interchanges = self._inbound_interchange_values(message, report)
        answers = (
            self._answer_documents(message, report)
            if backend.x12_send_997 and report.interchanges
            else []
        )
        if refused:
            self._set_file_aside(message)
            duplicate = any(code == "025" for i in report.interchanges for code, _d in i.notes)
            raise DocumentValidationError(
                self.env._(
                    "%(file)s from %(partner)s was %(status)s%(answered)s. What is wrong:\n"
                    "%(findings)s",
                    file=message.external_id or message.name,
                    partner=backend.name,
                    status=self.env._("refused as a duplicate")
                    if duplicate
                    else report.status.replace("_", " "),
                    answered=self.env._(" and answered with a rejecting 997/TA1")
                    if backend.x12_send_997 and report.interchanges
                    else "",
                    findings="\n".join(f"- {line}" for line in findings[:MAX_FINDINGS_SHOWN])
                    + (
                        f"\n- ... {len(findings) - MAX_FINDINGS_SHOWN} more"
                        if len(findings) > MAX_FINDINGS_SHOWN
                        else ""
                    ),
                ),
                errors=findings,
                # recorded and answered by _x12_after_refusal once this attempt rolled back
                details={"x12_interchanges": interchanges, "x12_answers": answers},
            )
        self._x12_record(message, interchanges, answers)
        documents = []
        problems = []
        for parsed in received:
            if not parsed.result.accepted:
                continue
            try:
                documents.extend(self._documents_of_set(message, parsed))
            except canonical_x12.MappingProblem as problem:
                problems.append(
                    f"set {parsed.result.set_id} {parsed.result.control_number}: {problem}"
                )
        if problems:
            raise BusinessError(
                self.env._(
                    "%(file)s passed the X12 checks but cannot be used: %(problems)s",
                    file=message.external_id or message.name,
                    problems="; ".join(problems),
                )
            )
        return documents

    @api.model
    def _refuse_unmapped_sets(self, backend, report):
        """A set the partner has no inbound mapping for is not applied: it is marked "not
        supported" (AK502 code 1) in the report, so the file is refused, answered with a
        rejecting 997 and shown as an exception saying which mapping to add."""
        set_names = dict(X12_SETS)
        for interchange in report.interchanges:
            for group in interchange.groups:
                for result in group.sets:
                    if not result.accepted or backend._x12_flow_of_set(result.set_id):
                        continue
                    result.set_errors.append(
                        (
                            "1",
                            self.env._(
                                "%(partner)s has no active Received line for the %(set)s under "
                                "Transaction Sets on its EDI tab: add one (choose the flow it "
                                "feeds), then ask the partner to send the file again",
                                partner=backend.name,
                                set=set_names.get(result.set_id, result.set_id),
                            ),
                        )
                    )

    @api.model
    def _documents_of_set(self, message, parsed):
        set_id = parsed.result.set_id
        segments = parsed.segments
        if set_id == "945":
            return [canonical_x12.shipment_from_945(segments)]
        if set_id == "944":
            return [canonical_x12.receipt_from_944(segments)]
        if set_id == "846":
            return [
                canonical_x12.inventory_from_846(segments, message.backend_id.x12_default_warehouse)
            ]
        if set_id == "997":
            return self._acks_of_997(message, segments)
        if set_id == "214":
            return canonical_x12.tracking_events_from_214(segments)
        if set_id == "210":
            return [canonical_x12.freight_invoice_from_210(segments)]
        raise BusinessError(
            self.env._(
                "Transaction set %(set)s is valid X12 but this addon does not apply it yet.",
                set=set_id,
            )
        )

    @api.model
    def _acks_of_997(self, message, segments):
        """ack/1 documents for the outbound messages a 997 acknowledges (by GS06)."""
        documents = []
        ledger = self.env["logistics.x12.interchange"].sudo()
        for group in canonical_x12.acknowledgements_from_997(segments):
            sent = ledger.search(
                [
                    ("backend_id", "=", message.backend_id.id),
                    ("direction", "=", "outbound"),
                    ("group_control_numbers", "=", str(int(group["group"] or 0))),
                    ("functional_ids", "=", group["functional_id"]),
                ],
                limit=1,
            )
            if not sent or not sent.message_id:
                raise BusinessError(
                    self.env._(
                        "The 997 acknowledges group %(group)s (%(fid)s), which was never sent "
                        "to %(partner)s: nothing was changed.",
                        group=group["group"],
                        fid=group["functional_id"],
                        partner=message.backend_id.name,
                    )
                )
            status = group.get("status", "rejected")
            errors = group["errors"] + [e for s in group["sets"] for e in s["errors"]]
            if status != "accepted" and not errors:
                errors = [{"code": None, "message": self.env._("no reason given in the 997")}]
            sent.write({"ack_received": status, "ack_message_id": message.id})
            document = {
                "schema": "ack/1",
                "acknowledged_reference": sent.message_id.reference,
                "status": status,
                "control_number": sent.control_number,
            }
            if errors:
                document["errors"] = errors
            documents.append(document)
        return documents

    @api.model
    def _inbound_interchange_values(self, message, report):
        """Interchange records (the ledger of numbers) of every interchange in the file."""
        findings = "\n".join(report.findings())
        return [
            {
                "backend_id": message.backend_id.id,
                "message_id": message.id,
                "direction": "inbound",
                "control_number": interchange.control_number,
                "sender": "/".join(interchange.sender),
                "receiver": "/".join(interchange.receiver),
                "usage": interchange.usage,
                "group_control_numbers": ", ".join(g.control_number for g in interchange.groups),
                "functional_ids": ", ".join(g.functional_id for g in interchange.groups),
                "set_summary": ", ".join(
                    f"{s.set_id} {s.control_number}" for g in interchange.groups for s in g.sets
                ),
                "file_name": message.external_id,
                "result": "rejected" if interchange.code == "R" else report.status,
                "findings": findings,
                "ack_received": "not_expected",
            }
            for interchange in report.interchanges
        ]

    @api.model
    def _answer_documents(self, message, report):
        """[idempotency key, ack/1 document] of the 997/TA1 replies the file deserves; the
        X12 segments travel in the document's extensions and get their control numbers when
        they are sent."""
        answers = []
        for index, reply in enumerate(build_acknowledgements(report)):
            received = report.interchanges[index] if index < len(report.interchanges) else None
            codes = {g.code for g in received.groups} if received else set()
            if received is None or received.code == "R" or not codes or codes == {"R"}:
                status = "rejected"
            elif codes == {"A"}:
                status = "accepted"
            else:
                status = "partial"
            document = {
                "schema": "ack/1",
                "acknowledged_reference": message.external_id or message.name,
                "status": status,
                "control_number": received.control_number if received else None,
                "extensions": {
                    "x12": {
                        "ta1": [[tag, *elements] for tag, elements in reply.interchange_segments],
                        "sets": [
                            [[tag, *elements] for tag, elements in transaction.segments]
                            for group in reply.groups
                            for transaction in group.sets
                        ],
                    }
                },
            }
            if status != "accepted":
                document["errors"] = [
                    {"message": line} for line in report.findings()[:MAX_FINDINGS_SHOWN]
                ] or [{"message": "rejected"}]
            answers.append([f"x12-ack:{message.id}:{index}", document])
        return answers

    @api.model
    def _x12_record(self, message, interchanges, answers):
        """Store the interchange records and queue the replies (997/TA1) of an inbound file,
        in the current transaction."""
        self.env["logistics.x12.interchange"].sudo().create(interchanges)
        messages = self.env["logistics.message"].sudo()
        for key, document in answers:
            messages._create_outbound(
                message.backend_id,
                "ack",
                document=document,
                idempotency_key=key,
                parent=message,
            )

    @api.model
    def _set_file_aside(self, message):
        """Move a refused file from the archive folder to the error folder, so the partner's
        server shows it was refused. Best effort: the exception says what was wrong anyway."""
        backend = message.backend_id
        name = message.external_id
        if not name:
            return
        endpoint = backend._get_endpoint()
        archive = endpoint.get("sftp_archive_folder") or "archive"
        error_folder = endpoint.get("sftp_error_folder") or "error"
        try:
            with backend._sftp_transport() as sftp:
                path = posixpath.join(archive, name)
                if sftp.exists(path):
                    sftp.ensure_folder(error_folder)
                    sftp.move(path, error_folder)
        except LogisticsError as error:
            _logger.warning("Could not move %s to the error folder: %s", name, error)

    # ---- administration ----------------------------------------------------------------------
    @api.model
    def _test_connection(self, backend):
        self._check_partner_ids(backend)
        endpoint = backend._get_endpoint()
        folder = endpoint.get("sftp_inbound_folder") or "outbound"
        with backend._sftp_transport() as sftp:
            files = sftp.list_files(folder)
        return self.env._(
            "Logged in to the SFTP server; %(count)s file(s) wait in %(folder)s.",
            count=len(files),
            folder=folder,
        )
