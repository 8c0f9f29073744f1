import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const CURRENT_STATE = ".o_form_statusbar .o_statusbar_status button.o_arrow_button_current";

// A Logistics User reopens an exception assigned to them: back in New, and Assign to Me is not
// offered (it is theirs already); they start it again.
registry.category("web_tour.tours").add("logistics_connector_exception_reopen", {
    steps: () => [
        { content: "The exception is resolved", trigger: `${CURRENT_STATE}:contains(Resolved)` },
        {
            content: "Reopen it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_reopen]",
            run: "click",
        },
        { content: "It is new again", trigger: `${CURRENT_STATE}:contains(New)` },
        {
            content: "Start is offered, Assign to Me is not: it is mine already",
            trigger:
                ".o_form_view .o_form_statusbar:not(:has(button[name=action_assign_to_me])) button[name=action_start]",
        },
        {
            content: "Start it",
            trigger: ".o_form_view .o_form_statusbar button[name=action_start]",
            run: "click",
        },
        { content: "It is in progress", trigger: `${CURRENT_STATE}:contains(In Progress)` },
        {
            content: "Reopen is gone with the open state",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name=action_reopen]))",
        },
    ],
});

// A manager reads a missing-mapping exception, adds the mapping from it (prefilled) and opens
// the document it is about.
registry.category("web_tour.tours").add("logistics_connector_exception_add_mapping", {
    steps: () => [
        {
            content: "The title starts with the problem",
            trigger:
                ".o_form_view .o_field_widget[name=name] input:value(Missing Warehouse mapping for)",
        },
        {
            content: "The message stays at hand",
            trigger: "button[name=action_open_message]:contains(LCM)",
        },
        {
            content: "Add the mapping",
            trigger: ".o_form_view .o_form_statusbar button[name=action_add_mapping]",
            run: "click",
        },
        {
            content: "The Odoo value that was missing is filled in",
            trigger: ".modal .o_field_widget[name=odoo_value] input:value(NRTH)",
        },
        {
            content: "So is the partner",
            trigger: ".modal .o_field_widget[name=backend_id] input:value(Sandbox 3PL)",
        },
        {
            content: "Type the partner's code",
            trigger: ".modal .o_field_widget[name=partner_value] input",
            run: "edit SBX-NORTH",
        },
        {
            content: "Save it",
            trigger: ".modal .modal-footer .o_form_button_save",
            run: "click",
        },
        {
            content: "Back on the exception",
            trigger: "body:not(:has(.modal)) .o_form_view .o_field_widget[name=name]",
        },
        {
            content: "Open the document it is about",
            trigger: ".o_form_view div[name=document_link] button[name=action_open_document]:contains(/OUT/)",
            run: "click",
        },
        {
            content: "The delivery order is open",
            trigger: ".o_breadcrumb .active:contains(/OUT/)",
        },
    ],
});

// A manager reads what went over the wire: the payload as text, JSON highlighted by Odoo 18's
// code editor, no technical ids outside debug mode.
registry.category("web_tour.tours").add("logistics_connector_message_payload", {
    steps: () => [
        {
            content: "The canonical document is highlighted",
            trigger: ".o_form_view .o_field_widget[name=canonical_text] .ace_editor .ace_line",
        },
        {
            content: "No correlation id outside debug mode",
            trigger: ".o_form_view:not(:has(.o_field_widget[name=correlation_id]))",
        },
        {
            content: "Open the wire payload",
            trigger: ".o_form_view .o_notebook .nav-link:contains(Wire payload)",
            run: "click",
        },
        {
            content: "The request is its text, not a size",
            trigger:
                ".o_form_view .o_field_widget[name=wire_request_text].font-monospace:contains(order_release):not(:contains(bytes of binary data))",
        },
        {
            content: "The answer too",
            trigger:
                ".o_form_view .o_field_widget[name=wire_response_text]:contains(id):not(:contains(bytes of binary data))",
        },
        {
            content: "The headers are highlighted",
            trigger: ".o_form_view .o_field_widget[name=wire_headers_text] .ace_editor .ace_line",
        },
    ],
});

// The overview as operations see it: health in words, what to handle, the last error, and
// counts coloured by their value.
registry.category("web_tour.tours").add("logistics_connector_overview", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("logistics_connector_base.menu_logistics_root", "Open Logistics"),
        {
            content: "A partner that answers is healthy",
            trigger: ".o_kanban_record:contains(Alpha 3PL) .o_field_badge:contains(Connection healthy)",
        },
        {
            content: "It says how many exceptions wait for a person",
            trigger: ".o_kanban_record:contains(Alpha 3PL) .o_logistics_to_handle:contains(1 to handle)",
        },
        {
            content: "Its zero counts are muted, not red",
            trigger:
                ".o_kanban_record:contains(Alpha 3PL) div[name=dead_count].text-muted:not(.text-danger)",
        },
        {
            content: "Its failed message counts",
            trigger:
                ".o_kanban_record:contains(Alpha 3PL) div[name=failed_count].text-warning",
        },
        {
            content: "A partner that stopped answering is paused",
            trigger: ".o_kanban_record:contains(Bravo Carrier) .o_field_badge:contains(Paused)",
        },
        {
            content: "Its last error is on the card",
            trigger:
                ".o_kanban_record:contains(Bravo Carrier) div[name=last_error].text-danger:contains(connection refused)",
        },
        {
            content: "Its partner-down exception waits for a person",
            trigger:
                ".o_kanban_record:contains(Bravo Carrier) .o_logistics_to_handle:contains(1 to handle)",
        },
    ],
});

// A manager on a partner: reveals the signing secret, sees only the REST settings of a REST
// endpoint until asking for SFTP, and is warned when switching to production without its
// endpoint.
registry.category("web_tour.tours").add("logistics_connector_partner_form", {
    steps: () => [
        {
            content: "Open the Webhooks tab",
            trigger: ".o_form_view .o_notebook .nav-link:contains(Webhooks)",
            run: "click",
        },
        {
            content: "The secret can be copied without showing it",
            trigger: ".o_form_view div[name=webhook_secret] .o_clipboard_button",
        },
        {
            content: "Show the secret",
            trigger: ".o_form_view button[name=action_show_webhook_secret]",
            run: "click",
        },
        {
            content: "It is shown in a notification",
            trigger: ".o_notification:contains(Signing secret of Sandbox 3PL):contains(whsec_)",
        },
        {
            content: "Close it",
            trigger: ".o_notification:contains(whsec_) .o_notification_close",
            run: "click",
        },
        {
            content: "Open the endpoints",
            trigger: ".o_form_view .o_notebook .nav-link:contains(Endpoints)",
            run: "click",
        },
        {
            content: "Open the test endpoint",
            trigger: ".o_form_view .o_field_widget[name=endpoint_ids] .o_data_row .o_data_cell",
            run: "click",
        },
        {
            content: "A REST partner's endpoint shows its REST settings only",
            trigger:
                ".modal:not(:has(.o_field_widget[name=sftp_host])) .o_field_widget[name=base_url]",
        },
        {
            content: "Ask for SFTP too",
            trigger: ".modal .o_field_widget[name=use_sftp] input",
            run: "click",
        },
        {
            content: "The SFTP settings appear",
            trigger: ".modal .o_field_widget[name=sftp_host]",
        },
        {
            content: "Leave the endpoint as it was",
            trigger: ".modal .modal-footer .o_form_button_cancel",
            run: "click",
        },
        {
            content: "Switch to production",
            trigger: "body:not(:has(.modal)) .o_form_view .o_field_widget[name=environment] input[data-value=production]",
            run: "click",
        },
        {
            content: "A warning says the production endpoint is missing",
            trigger: ".o_notification:contains(No production endpoint)",
        },
        {
            content: "And the form says it until it is fixed",
            trigger: ".o_form_view .alert-warning:contains(No production endpoint)",
        },
        {
            content: "Discard the switch",
            trigger: ".o_form_view .o_form_button_cancel",
            run: "click",
        },
        {
            content: "Back to test, no warning on the form",
            trigger:
                ".o_form_view:not(:has(.alert-warning:visible)) .o_field_widget[name=environment] input[data-value=test]:checked",
        },
    ],
});
