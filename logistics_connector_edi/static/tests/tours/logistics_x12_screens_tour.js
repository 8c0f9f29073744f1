import { registry } from "@web/core/registry";

// A 945 whose second line is a partial shipment (W12-01 "BP"), for the validate tool: the
// tour's partner only takes complete lines ("CC").
const SAMPLE_945 = [
    "ISA*00*          *00*          *ZZ*PARTNER3PL     *ZZ*OURCOMPANY     *250306*1200*U*00401*000000777*0*T*>",
    "GS*SW*PARTNER3PL*OURCOMPANY*20250306*1200*777*X*004010",
    "ST*945*0001",
    "W06*F*SO123*20250306*SHIP1",
    "N1*ST*Bob Smith",
    "W27*M*UPSN",
    "LX*1",
    "W12*CC*5*5*0*EA**SK*SKU-1",
    "LX*2",
    "W12*BP*3*2*1*EA**SK*SKU-2",
    "W03*7",
    "SE*10*0001",
    "GE*1*777",
    "IEA*1*000000777",
].join("~\n") + "~\n";

// An administrator follows an order release to the X12 interchange it went out in (envelope,
// sets, 997 status, the segments), checks a partner's sample file with the validate tool, then
// adds a line of the partner's guide on its EDI tab (a wrong one is refused in plain words).
registry.category("web_tour.tours").add("logistics_connector_edi_screens", {
    steps: () => [
        {
            content: "Open the X12 tab of the order release",
            trigger: ".o_form_view .o_notebook .nav-link:contains(X12)",
            run: "click",
        },
        {
            content: "The interchange it went out in, acknowledged by the partner's 997",
            trigger:
                ".o_form_view .o_field_widget[name=x12_interchange_ids] .o_data_row:contains(940 ):contains(Accepted) td[name=set_summary]",
            run: "click",
        },
        {
            content: "The envelope: who sent it to whom, with which control numbers",
            trigger:
                ".modal .o_form_view .o_field_widget[name=sender]:contains(ZZ/OURCOMPANY)",
        },
        {
            content: "Its transaction sets and its acknowledgement status",
            trigger:
                ".modal .o_form_view:has(.o_field_widget[name=set_summary]:contains(940 )) .o_field_widget[name=ack_state]:contains(Accepted)",
        },
        {
            content: "Open the segment viewer",
            trigger: ".modal .o_notebook .nav-link:contains(Segments)",
            run: "click",
        },
        {
            content: "One segment per line, elements apart",
            trigger: ".modal .o_field_widget[name=segment_view]:contains(W05 | N | WH/OUT/)",
        },
        {
            content: "Close it",
            trigger: ".modal .modal-footer button:contains(Close), .modal .btn-close",
            run: "click",
        },
        {
            content: "Back on the message; open the Logistics configuration menu",
            trigger:
                "body:not(:has(.modal)) .o_main_navbar .o_menu_sections button:contains(Configuration)",
            run: "click",
        },
        {
            content: "Validate an X12 file",
            trigger: ".o-dropdown--menu .dropdown-item:contains(Validate X12 File)",
            run: "click",
        },
        {
            content: "Choose the partner whose guide applies",
            trigger: ".modal .o_field_widget[name=backend_id] input",
            run: "edit EDI tour partner",
        },
        {
            content: "Pick it",
            trigger: ".o-autocomplete--dropdown-menu .dropdown-item:contains(EDI tour partner)",
            run: "click",
        },
        {
            content: "Upload the partner's sample",
            trigger: ".modal .o_field_widget[name=file] .o_select_file_button",
            run() {
                const input = this.anchor
                    .closest(".o_field_widget")
                    .querySelector("input[type=file]");
                const transfer = new DataTransfer();
                transfer.items.add(new File([SAMPLE_945], "sample_945.x12", { type: "text/plain" }));
                input.files = transfer.files;
                input.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "The file is there",
            trigger: ".modal .o_field_widget[name=file] input:value(sample_945.x12)",
        },
        {
            content: "Validate it",
            trigger: ".modal .modal-footer button[name=action_validate]",
            run: "click",
        },
        {
            content: "Rejected by this partner's guide",
            trigger: ".modal .o_field_widget[name=result]:contains(Rejected)",
        },
        {
            content: "The finding says where and what was expected",
            trigger:
                ".modal .o_field_widget[name=findings]:contains('BP' is not a valid code; expected one of CC)",
        },
        {
            content: "The segments of the file, the wrong one marked",
            trigger: ".modal .o_notebook .nav-link:contains(Segments)",
            run: "click",
        },
        {
            content: "The W12 in error is marked",
            trigger: ".modal .o_field_widget[name=segments]:contains(!! segment W12)",
        },
        {
            content: "Close the tool",
            trigger: ".modal .modal-footer button:contains(Close)",
            run: "click",
        },
        {
            content: "Open the configuration menu again",
            trigger:
                "body:not(:has(.modal)) .o_main_navbar .o_menu_sections button:contains(Configuration)",
            run: "click",
        },
        {
            content: "Open the partners",
            trigger: ".o-dropdown--menu .dropdown-item:contains(Partners)",
            run: "click",
        },
        {
            content: "Open the EDI partner",
            trigger: ".o_list_view .o_data_row td:contains(EDI tour partner)",
            run: "click",
        },
        {
            content: "Open its EDI tab",
            trigger: ".o_form_view .o_notebook .nav-link:contains(EDI (X12))",
            run: "click",
        },
        {
            content: "Each set received feeds a flow: the 214 feeds tracking",
            trigger:
                ".o_field_widget[name=x12_set_mapping_ids] .o_data_row:contains(214 Carrier Shipment Status):contains(Tracking Event)",
        },
        {
            content: "The guide's code list is a line",
            trigger:
                ".o_field_widget[name=x12_restriction_ids] .o_data_row:contains(Only these codes):contains(W12)",
        },
        {
            content: "Add a line to the partner's restrictions",
            trigger: ".o_field_widget[name=x12_restriction_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "An element with a code list",
            trigger: ".o_field_widget[name=x12_restriction_ids] .o_selected_row .o_field_widget[name=segment] input",
            run: "edit W06",
        },
        {
            content: "Its position",
            trigger: ".o_field_widget[name=x12_restriction_ids] .o_selected_row .o_field_widget[name=position] input",
            run: "edit 1",
        },
        {
            content: "A code too long for it",
            trigger: ".o_field_widget[name=x12_restriction_ids] .o_selected_row .o_field_widget[name=codes] input",
            run: "edit FF",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Refused in plain words",
            trigger: ".modal .modal-body:contains(FF does not fit Reporting Code (1 to 1 characters))",
        },
        {
            content: "Close the message",
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "Fix the code",
            trigger: ".o_field_widget[name=x12_restriction_ids] .o_data_row .o_field_widget[name=codes] input:value(FF)",
            run: "edit F",
        },
        {
            content: "Save again",
            trigger: "body:not(:has(.modal)) .o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});
