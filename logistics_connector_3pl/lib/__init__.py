"""Plain Python of the 3PL addon (no Odoo imports): ShipBob wire mapping and status rules."""
