import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const CURRENT_STATE = ".o_form_statusbar .o_statusbar_status button.o_arrow_button_current";

// Logistics > Exceptions, then the exception with this summary in the New column.
function openNewException(summary) {
    return [
        ...stepUtils.goToAppSteps("logistics_connector_base.menu_logistics_root", "Open Logistics"),
        {
            content: "Open Exceptions",
            trigger: ".o_main_navbar [data-menu-xmlid='logistics_connector_base.menu_logistics_exception']",
            run: "click",
        },
        {
            content: "Open the new exception from the New column",
            trigger: `.o_kanban_group:has(.o_column_title:contains(New)) .o_kanban_record:contains(${summary})`,
            run: "click",
        },
    ];
}

// Start, then resolve with a reason through the wizard, and see the reason kept.
function startAndResolve(reason) {
    return [
        {
            content: "Start working on it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_start]",
            run: "click",
        },
        { content: "It is in progress", trigger: `${CURRENT_STATE}:contains(In Progress)` },
        {
            content: "Resolve it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_resolve]",
            run: "click",
        },
        {
            content: "Type the reason",
            trigger: ".modal .o_field_widget[name=reason] textarea",
            run: `edit ${reason}`,
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button.btn-primary:contains(Resolve)",
            run: "click",
        },
        { content: "The exception is resolved", trigger: `${CURRENT_STATE}:contains(Resolved)` },
        {
            content: "The reason is kept on it",
            trigger: `.o_form_view .o_field_widget[name=resolution_reason]:contains(${reason})`,
        },
    ];
}

// A manager works an exception from new to resolved.
registry.category("web_tour.tours").add("logistics_connector_exception_resolve", {
    url: "/odoo",
    steps: () => [
        ...openNewException("Tour: pallet damaged at the 3PL"),
        {
            content: "It shows the partner concerned",
            trigger: ".o_form_view .o_field_widget[name=backend_id]:contains(Tour 3PL)",
        },
        ...startAndResolve("Pallet re-packed by the 3PL and shipped."),
    ],
});

// A Logistics User works an exception: the details are the manager's (read-only here); the
// user takes it and the buttons move it from new to resolved.
registry.category("web_tour.tours").add("logistics_connector_exception_user", {
    url: "/odoo",
    steps: () => [
        ...openNewException("Tour: parcel returned to sender"),
        {
            content: "The summary is read-only for a user",
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
        ...startAndResolve("Address corrected with the customer and parcel re-sent."),
    ],
});
