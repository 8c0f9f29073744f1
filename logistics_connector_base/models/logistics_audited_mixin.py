from odoo import api, fields, models

from ..lib.masking import is_sensitive_key

# Never audited: bookkeeping of the ORM, chatter and activities.
SKIPPED_FIELDS = frozenset(
    {
        "id",
        "display_name",
        "create_uid",
        "create_date",
        "write_uid",
        "write_date",
        "__last_update",
    }
)
SKIPPED_PREFIXES = ("message_", "activity_", "website_message", "rating_")
MAX_TEXT = 200
MAX_NAMES = 10


class LogisticsAuditedMixin(models.AbstractModel):
    """Configuration records (partners, endpoints, mappings) that leave a ``config_change``
    audit entry on create, write and unlink: who, when, and for each changed field its old and
    new display value. Fields named in ``_logistics_secret_fields`` - and any field whose name
    looks like a credential (password, token, api_key, secret...) - are never shown: only
    "(set)", "(changed)" or "(cleared)"."""

    _name = "logistics.audited.mixin"
    _description = "Logistics Audited Configuration"

    # Field names whose values must never appear in the audit log.
    _logistics_secret_fields = ()
    # Field names that are not worth an audit entry (e.g. counters written by the pipeline).
    _logistics_audit_skip_fields = ()
    # Fields read into a partner's cached exchange settings (logistics.backend
    # _exchange_settings): changing one, or creating or deleting a record of a model that has
    # some, drops that cache in every worker. True: every field.
    _logistics_settings_fields = ()

    # ------------------------------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if self._logistics_settings_fields:
            self.env.registry.clear_cache()
        if self.env.context.get("logistics_audit_skip"):
            return records
        for record, vals in zip(records, vals_list, strict=True):
            names = record._logistics_audited_names(vals)
            changes = [
                record._logistics_audit_change(name, None, record._logistics_audit_value(name))
                for name in names
            ]
            changes = [change for change in changes if change["new"] != "(empty)"]
            record._logistics_audit_record(
                self.env._(
                    "%(model)s %(name)s created",
                    model=record._description,
                    name=record.sudo().display_name,
                ),
                "create",
                changes,
            )
        return records

    def write(self, vals):
        settings = self._logistics_settings_fields
        if settings is True or set(vals) & set(settings):
            self.env.registry.clear_cache()
        if self.env.context.get("logistics_audit_skip"):
            return super().write(vals)
        names = self._logistics_audited_names(vals)
        if not names:
            return super().write(vals)
        before = {
            record.id: {name: record._logistics_audit_value(name) for name in names}
            for record in self
        }
        result = super().write(vals)
        for record in self:
            changes = []
            for name in names:
                new = record._logistics_audit_value(name)
                old = before[record.id][name]
                if old != new:
                    changes.append(record._logistics_audit_change(name, old, new))
            if changes:
                record._logistics_audit_record(
                    self.env._(
                        "%(model)s %(name)s changed: %(fields)s",
                        model=record._description,
                        name=record.sudo().display_name,
                        fields=", ".join(change["label"] for change in changes),
                    ),
                    "write",
                    changes,
                )
        return result

    def unlink(self):
        if self._logistics_settings_fields:
            self.env.registry.clear_cache()
        if not self.env.context.get("logistics_audit_skip"):
            for record in self:
                record._logistics_audit_record(
                    self.env._(
                        "%(model)s %(name)s deleted",
                        model=record._description,
                        name=record.sudo().display_name,
                    ),
                    "unlink",
                    [],
                )
        return super().unlink()

    # ------------------------------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------------------------------
    @api.model
    def _logistics_secret_field_names(self):
        """Fields whose values are secrets. Partner addons that add a secret field override
        this and add its name to super()'s, so masking and the audit log cover it."""
        return set(self._logistics_secret_fields)

    def _logistics_is_secret(self, name):
        return name in self._logistics_secret_field_names() or is_sensitive_key(name)

    def _logistics_audited_names(self, vals):
        """Fields of ``vals`` worth auditing: what a person configures. Read-only fields are
        state the system keeps (counters, health, computed values) - except secrets, whose
        every change is recorded (as "(changed)")."""
        skipped = set(self._logistics_audit_skip_fields)
        names = []
        for name in vals:
            field = self._fields.get(name)
            if (
                field is None
                or name in SKIPPED_FIELDS
                or name in skipped
                or name.startswith(SKIPPED_PREFIXES)
            ):
                continue
            if field.readonly and name not in self._logistics_secret_field_names():
                continue
            names.append(name)
        return names

    def _logistics_audit_value(self, name):
        """What the audit log shows for one field of this record. A secret is reduced to a
        fingerprint of its presence; comparing fingerprints still detects a change."""
        self.ensure_one()
        field = self._fields[name]
        value = self.sudo()[name]
        if self._logistics_is_secret(name):
            # Kept in memory only, to tell "(changed)" from "unchanged"; never stored.
            return _SecretValue(value)
        return _display(self.sudo(), field, value)

    def _logistics_audit_change(self, name, old, new):
        field = self._fields[name]
        label = field._description_string(self.env)
        if isinstance(new, _SecretValue):
            if old is None:
                shown_old, shown_new = "(empty)", "(set)" if new.is_set else "(empty)"
            elif not new.is_set:
                shown_old, shown_new = "(set)", "(cleared)"
            else:
                shown_old, shown_new = ("(set)" if old.is_set else "(empty)"), "(changed)"
            return {"field": name, "label": label, "old": shown_old, "new": shown_new}
        return {
            "field": name,
            "label": label,
            "old": "(empty)" if old is None else old,
            "new": new,
        }

    def _logistics_audit_backend(self):
        self.ensure_one()
        if self._name == "logistics.backend":
            return self
        if "backend_id" in self._fields and self.sudo().backend_id:
            return self.sudo().backend_id
        return None

    def _logistics_audit_record(self, summary, operation, changes):
        self.ensure_one()
        self.env["logistics.audit.log"].record(
            "config_change",
            summary,
            backend=self._logistics_audit_backend(),
            record=self,
            details={"operation": operation, "model": self._name, "changes": changes},
        )


def _display(record, field, value):
    """Human value of a field, as a user would recognise it in the form."""
    if field.type == "boolean":
        return "Yes" if value else "No"
    if field.type in ("one2many", "many2many"):
        if not value:
            return "(empty)"
    elif value is False or value is None or value == "":
        return "(empty)"
    if field.type in ("many2one", "reference"):
        if not value:  # an empty recordset, not False
            return "(empty)"
        return value.display_name or f"#{value.id}"
    if field.type == "many2one_reference":
        # The record by its name, not "model,id".
        model = record[field.model_field]
        if model in record.env:
            target = record.env[model].browse(value).exists()
            if target:
                return target.display_name
    if field.type in ("one2many", "many2many"):
        names = value.mapped("display_name")
        shown = ", ".join(names[:MAX_NAMES])
        if len(names) > MAX_NAMES:
            shown += f" (+{len(names) - MAX_NAMES})"
        return shown
    if field.type == "selection":
        return dict(field._description_selection(record.env)).get(value, value)
    if field.type == "datetime":
        return fields.Datetime.to_string(value)
    if field.type == "date":
        return fields.Date.to_string(value)
    if field.type in ("binary", "image"):
        return "(file)"
    if field.type == "json":
        return "(data)"
    text = str(value)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "..."
    return text


class _SecretValue:
    """Compares like the secret it wraps, prints like nothing."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value or False

    @property
    def is_set(self):
        return bool(self._value)

    def __eq__(self, other):
        return isinstance(other, _SecretValue) and self._value == other._value

    def __hash__(self):
        return hash(self._value)

    def __repr__(self):
        return "<secret>"

    __str__ = __repr__
