import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Log in through the real login form, then open the Logistics app from the app menu.
function loginAndOpenLogistics(login, password) {
    return [
        { content: "Type the login", trigger: "input#login", run: `edit ${login}` },
        { content: "Type the password", trigger: "input#password", run: `edit ${password}` },
        { content: "Log in", trigger: "button[type=submit]:contains(Log in)", run: "click" },
        ...stepUtils.goToAppSteps("logistics_connector_base.menu_logistics_root", "Open Logistics"),
        {
            content: "The Logistics app is open",
            trigger: ".o_main_navbar .o_menu_brand:contains(Logistics)",
        },
        { content: "Its overview is shown", trigger: ".o_kanban_view, .o_list_view" },
    ];
}

registry.category("web_tour.tours").add("logistics_connector_login_open_app", {
    url: "/web/login",
    steps: () => loginAndOpenLogistics("lc_tour_manager", "lc_tour_manager"),
});

// Run against the demo database of scripts/run (demo credentials admin / admin).
registry.category("web_tour.tours").add("logistics_connector_demo_login", {
    url: "/web/login",
    steps: () => loginAndOpenLogistics("admin", "admin"),
});
