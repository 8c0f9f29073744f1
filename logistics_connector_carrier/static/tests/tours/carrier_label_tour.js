import { registry } from "@web/core/registry";

// On a delivery order with a Logistics Connector shipping method: validate it, see the label
// bought from the carrier, attached to the delivery and listed on its Parcels tab.
registry.category("web_tour.tours").add("logistics_connector_carrier_validate_and_label", {
    steps: () => [
        {
            content: "Validate the delivery",
            trigger: ".o_form_view .o_form_statusbar button[name=button_validate]",
            run: "click",
        },
        {
            content: "The delivery is done",
            trigger: ".o_form_statusbar .o_arrow_button_current:contains(Done)",
        },
        {
            content: "Open the Parcels tab",
            trigger: ".o_notebook .nav-link[name=logistics_parcels]",
            run: "click",
        },
        {
            content: "The parcel's label is there, bought",
            trigger: ".o_field_widget[name=logistics_label_ids] .o_data_row:contains(Bought):contains(LabelShipping-logistics-EZ)",
        },
        {
            content: "The label file is attached to the delivery, ready to print",
            trigger: ".o-mail-Chatter .o-mail-AttachmentCard:contains(LabelShipping-logistics-EZ), .o-mail-Chatter .o-mail-AttachmentImage, .o-mail-Chatter [title*='LabelShipping-logistics-EZ']",
        },
    ],
});
