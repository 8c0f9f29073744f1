import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A manager works an exception from new to resolved: open it from Logistics > Exceptions,
// start it, resolve it with a reason, and see it resolved.
const SUMMARY = "Tour: pallet damaged at the 3PL";
const REASON = "Pallet re-packed by the 3PL and shipped.";

registry.category("web_tour.tours").add("logistics_connector_exception_resolve", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("logistics_connector_base.menu_logistics_root", "Open Logistics"),
        {
            content: "Open Exceptions",
            trigger: ".o_main_navbar [data-menu-xmlid='logistics_connector_base.menu_logistics_exception']",
            run: "click",
        },
        {
            content: "Open the new exception from the New column",
            trigger: `.o_kanban_group:has(.o_column_title:contains(New)) .o_kanban_record:contains(${SUMMARY})`,
            run: "click",
        },
        {
            content: "It shows the partner concerned",
            trigger: ".o_form_view .o_field_widget[name=backend_id]:contains(Tour 3PL)",
        },
        {
            content: "Start working on it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_start]",
            run: "click",
        },
        {
            content: "It is in progress",
            trigger: ".o_form_statusbar .o_statusbar_status button.o_arrow_button_current:contains(In Progress)",
        },
        {
            content: "Resolve it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_resolve]",
            run: "click",
        },
        {
            content: "Type the reason",
            trigger: ".modal .o_field_widget[name=reason] textarea",
            run: `edit ${REASON}`,
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button.btn-primary:contains(Resolve)",
            run: "click",
        },
        {
            content: "The exception is resolved",
            trigger: ".o_form_statusbar .o_statusbar_status button.o_arrow_button_current:contains(Resolved)",
        },
        {
            content: "The reason is kept on it",
            trigger: `.o_form_view .o_field_widget[name=resolution_reason]:contains(${REASON})`,
        },
    ],
});

// A Logistics User works an exception: the details are the manager's (read-only here); the
// user takes it and the buttons move it from new to resolved.
const USER_SUMMARY = "Tour: parcel returned to sender";
const USER_REASON = "Address corrected with the customer and parcel re-sent.";

registry.category("web_tour.tours").add("logistics_connector_exception_user", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("logistics_connector_base.menu_logistics_root", "Open Logistics"),
        {
            content: "Open Exceptions",
            trigger: ".o_main_navbar [data-menu-xmlid='logistics_connector_base.menu_logistics_exception']",
            run: "click",
        },
        {
            content: "Open the new exception from the New column",
            trigger: `.o_kanban_group:has(.o_column_title:contains(New)) .o_kanban_record:contains(${USER_SUMMARY})`,
            run: "click",
        },
        {
            content: "The summary and severity are read-only for a user",
            trigger: ".o_form_view .o_field_widget[name=name].o_readonly_modifier:contains(parcel returned)",
        },
        {
            content: "The severity is read-only too",
            trigger: ".o_form_view .o_field_widget[name=severity].o_readonly_modifier",
        },
        {
            content: "The assignee can be changed",
            trigger: ".o_form_view .o_field_widget[name=user_id]:not(.o_readonly_modifier) input",
        },
        {
            content: "Take it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_assign_to_me]",
            run: "click",
        },
        {
            content: "Start working on it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_start]",
            run: "click",
        },
        {
            content: "It is in progress",
            trigger: ".o_form_statusbar .o_statusbar_status button.o_arrow_button_current:contains(In Progress)",
        },
        {
            content: "Resolve it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_resolve]",
            run: "click",
        },
        {
            content: "Type the reason",
            trigger: ".modal .o_field_widget[name=reason] textarea",
            run: `edit ${USER_REASON}`,
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button.btn-primary:contains(Resolve)",
            run: "click",
        },
        {
            content: "The exception is resolved",
            trigger: ".o_form_statusbar .o_statusbar_status button.o_arrow_button_current:contains(Resolved)",
        },
        {
            content: "The reason is kept on it",
            trigger: `.o_form_view .o_field_widget[name=resolution_reason]:contains(${USER_REASON})`,
        },
    ],
});
