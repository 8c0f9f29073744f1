from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestLogisticsUi(HttpCase):
    def test_login_and_open_logistics_app(self):
        new_test_user(
            self.env,
            login="lc_tour_manager",
            password="lc_tour_manager",
            groups="base.group_user,logistics_connector_base.group_logistics_manager",
        )
        self.start_tour("/web/login", "logistics_connector_login_open_app", login=None)
