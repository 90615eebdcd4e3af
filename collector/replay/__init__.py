"""Session replay, from the recorder's chunk to the viewer: :mod:`.collect` and :mod:`.wire`
(ingest), :mod:`.codec` and :mod:`.compaction` (storage), :mod:`.read`, :mod:`.routes` and
:mod:`.viewer` (playback), :mod:`.proxy` and :mod:`.assets` (what a replay loads).
See docs/REPLAY.md."""
