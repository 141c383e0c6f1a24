-- Finds sends whose worker died (lease expired) without a scan.
CREATE INDEX outbox_leases ON outbox (status, locked_until);
