"""Acting outside, exactly once: the ledger of outside actions (pickup, refund, WMS, coupons), its driver."""
