"""The inbox: beacons answered at the door, durable on answer, enriched in batches behind it."""
