-- 0003: the built-in motion detector's per-stream settings (StreamConfig motion_*; the
-- defaults match core/stream_config.py). LightNVR's detection_* columns already exist.
ALTER TABLE streams ADD COLUMN motion_sensitivity REAL NOT NULL DEFAULT 0.5;
ALTER TABLE streams ADD COLUMN motion_min_area REAL NOT NULL DEFAULT 0.01;
ALTER TABLE streams ADD COLUMN motion_cooldown INTEGER NOT NULL DEFAULT 3;
