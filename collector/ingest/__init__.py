"""``POST /collect``, from bytes to durable rows: :mod:`.collect` (the endpoint), :mod:`.wire`
(the beacon), :mod:`.sessions`, :mod:`.writer` (group commit). See docs/WIRE.md."""
