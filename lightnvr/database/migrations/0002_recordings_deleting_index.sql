-- 0002: find unfinished deletions (docs/storage.md, "Start-up reconciliation" step 1) and the
-- retention candidates of one stream without scanning the whole table.
CREATE INDEX idx_recordings_deleting ON recordings(deleting) WHERE deleting = 1;
CREATE INDEX idx_recordings_stream_protected_start
    ON recordings(stream_name, protected, start_time);
