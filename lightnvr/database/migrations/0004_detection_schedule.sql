-- 0004: when the built-in detector may trigger (168 '0'/'1', Sunday 00:00 first; '' = always)
-- and LightNVR's cross-stream trigger (this stream records when the named stream detects).
ALTER TABLE streams ADD COLUMN detection_schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE streams ADD COLUMN motion_trigger_source TEXT NOT NULL DEFAULT '';
