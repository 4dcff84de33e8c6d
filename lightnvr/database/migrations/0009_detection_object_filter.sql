-- 0009: LightNVR's per-stream class filter for object detection (its migration 0023):
-- `none` keeps every label, `include` only the labels of the comma-separated list, `exclude`
-- every label but those (StreamConfig detection_object_filter*, docs/detection.md).
ALTER TABLE streams ADD COLUMN detection_object_filter TEXT NOT NULL DEFAULT 'none'
    CHECK (detection_object_filter IN ('none', 'include', 'exclude'));
ALTER TABLE streams ADD COLUMN detection_object_filter_list TEXT NOT NULL DEFAULT '';
