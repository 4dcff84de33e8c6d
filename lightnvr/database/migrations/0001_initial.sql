-- 0001: LightNVR's schema (tables and columns as in the C project), with the indexes our API uses.
CREATE TABLE streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    streaming_enabled INTEGER NOT NULL DEFAULT 1,
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    fps INTEGER NOT NULL DEFAULT 0,
    codec TEXT NOT NULL DEFAULT '',
    priority INTEGER NOT NULL DEFAULT 5,
    record INTEGER NOT NULL DEFAULT 1,
    segment_duration INTEGER NOT NULL DEFAULT 900,
    protocol INTEGER NOT NULL DEFAULT 0,
    record_audio INTEGER NOT NULL DEFAULT 1,
    detection_based_recording INTEGER NOT NULL DEFAULT 0,
    detection_model TEXT NOT NULL DEFAULT '',
    detection_threshold REAL NOT NULL DEFAULT 0.5,
    detection_interval INTEGER NOT NULL DEFAULT 10,
    pre_detection_buffer INTEGER NOT NULL DEFAULT 5,
    post_detection_buffer INTEGER NOT NULL DEFAULT 10,
    detection_api_url TEXT NOT NULL DEFAULT '',
    retention_days INTEGER NOT NULL DEFAULT -1,
    detection_retention_days INTEGER NOT NULL DEFAULT -1,
    max_storage_mb INTEGER NOT NULL DEFAULT 0,
    record_on_schedule INTEGER NOT NULL DEFAULT 0,
    recording_schedule TEXT NOT NULL DEFAULT '',
    sub_stream_url TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    is_deleted INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),
    updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))
);

CREATE TABLE recordings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_name TEXT NOT NULL,
    file_path TEXT NOT NULL UNIQUE,
    start_time REAL NOT NULL,
    end_time REAL,
    size_bytes INTEGER NOT NULL DEFAULT 0,
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    fps INTEGER NOT NULL DEFAULT 0,
    codec TEXT NOT NULL DEFAULT '',
    is_complete INTEGER NOT NULL DEFAULT 0,
    trigger_type TEXT NOT NULL DEFAULT 'scheduled'
        CHECK (trigger_type IN ('scheduled', 'detection', 'manual')),
    protected INTEGER NOT NULL DEFAULT 0,
    retention_override_days INTEGER,
    -- crash-safe deletion (docs/storage.md): 1 once a deletion has started; finished at start-up
    deleting INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))
);
CREATE INDEX idx_recordings_stream_start ON recordings(stream_name, start_time);
CREATE INDEX idx_recordings_start ON recordings(start_time);
CREATE INDEX idx_recordings_protected ON recordings(protected, start_time);
CREATE INDEX idx_recordings_trigger ON recordings(trigger_type, start_time);
CREATE INDEX idx_recordings_incomplete ON recordings(is_complete) WHERE is_complete = 0;

CREATE TABLE recording_tags (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (recording_id, tag)
);
CREATE INDEX idx_recording_tags_tag ON recording_tags(tag);

CREATE TABLE detection_zones (
    id TEXT PRIMARY KEY,
    stream_name TEXT NOT NULL,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    color TEXT NOT NULL DEFAULT '#ff0000',
    polygon TEXT NOT NULL DEFAULT '[]',
    filter_classes TEXT NOT NULL DEFAULT '',
    min_confidence REAL NOT NULL DEFAULT 0.0,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))
);
CREATE INDEX idx_detection_zones_stream ON detection_zones(stream_name);

CREATE TABLE detections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_name TEXT NOT NULL,
    timestamp REAL NOT NULL,
    label TEXT NOT NULL,
    confidence REAL NOT NULL DEFAULT 0,
    x REAL NOT NULL DEFAULT 0,
    y REAL NOT NULL DEFAULT 0,
    width REAL NOT NULL DEFAULT 0,
    height REAL NOT NULL DEFAULT 0,
    recording_id INTEGER REFERENCES recordings(id) ON DELETE SET NULL,
    zone_id TEXT
);
CREATE INDEX idx_detections_stream_time ON detections(stream_name, timestamp);
CREATE INDEX idx_detections_recording ON detections(recording_id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type INTEGER NOT NULL DEFAULT 0,
    timestamp REAL NOT NULL,
    stream_name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_events_time ON events(timestamp);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    salt TEXT NOT NULL DEFAULT '',
    role INTEGER NOT NULL DEFAULT 1 CHECK (role BETWEEN 0 AND 3),
    email TEXT NOT NULL DEFAULT '',
    api_key TEXT UNIQUE,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),
    updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),
    last_login INTEGER,
    is_active INTEGER NOT NULL DEFAULT 1,
    password_change_required INTEGER NOT NULL DEFAULT 0,
    totp_secret TEXT,
    totp_enabled INTEGER NOT NULL DEFAULT 0,
    failed_login_count INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),
    expires_at INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),
    ip_address TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_sessions_user ON sessions(user_id);

CREATE TABLE system_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))
);
