-- 0006: the built-in detector decodes every frame (still analysing at most one per
-- detection_interval) instead of keyframes only: for cameras whose GOP is much longer than
-- the interval (StreamConfig detection_every_frame, docs/video.md).
ALTER TABLE streams ADD COLUMN detection_every_frame INTEGER NOT NULL DEFAULT 0
    CHECK (detection_every_frame IN (0, 1));
