import { registry } from "@web/core/registry";

// A delivery whose release to the 3PL was blocked (the customer's address was incomplete, and
// has been completed since) is sent from its form, which then shows its 3PL status.
registry.category("web_tour.tours").add("logistics_connector_3pl_release", {
    steps: () => [
        {
            content: "The form says why the delivery was not sent",
            trigger: ".o_form_view .alert-warning:contains(Release blocked):contains(ZIP code)",
        },
        {
            content: "Send it to the 3PL",
            trigger: ".o_form_view .o_form_statusbar button[name=action_logistics_release]",
            run: "click",
        },
        {
            content: "Its 3PL status shows it was sent",
            trigger: ".o_form_view .o_field_widget[name=logistics_status]:contains(Sent to 3PL)",
        },
        {
            content: "The warning is gone, and so is the button",
            trigger:
                ".o_form_view:not(:has(.alert-warning:contains(Release blocked))):not(:has(button[name=action_logistics_release]))",
        },
    ],
});
