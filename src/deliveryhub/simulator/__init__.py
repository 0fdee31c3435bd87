"""A simulated Korean online shop that drives the hub as its OMS, WMS, TMS, carriers and customers would."""
