-- 0005: a detection zone includes (motion counts only inside include zones, when there are
-- any) or excludes (motion inside never counts); API field "type".
ALTER TABLE detection_zones ADD COLUMN zone_type TEXT NOT NULL DEFAULT 'include'
    CHECK (zone_type IN ('include', 'exclude'));
