import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Logs in through the real login form, then opens the Logistics app from the app menu.
registry.category("web_tour.tours").add("logistics_connector_login_open_app", {
    url: "/web/login",
    steps: () => [
        { content: "Type the login", trigger: "input#login", run: "edit lc_tour_manager" },
        { content: "Type the password", trigger: "input#password", run: "edit lc_tour_manager" },
        { content: "Log in", trigger: "button[type=submit]:contains(Log in)", run: "click" },
        ...stepUtils.goToAppSteps("logistics_connector_base.menu_logistics_root", "Open Logistics"),
        { content: "The Logistics app is open", trigger: ".o_main_navbar .o_menu_brand:contains(Logistics)" },
        { content: "Its partners are listed", trigger: ".o_list_view, .o_kanban_view" },
    ],
});
