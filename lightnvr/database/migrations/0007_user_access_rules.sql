-- 0007: LightNVR's per-user access rules (its migrations 0019, 0029, 0035, 0037) and
-- trusted devices (issue #15). Column names and meanings are LightNVR's, so an imported
-- database keeps them:
--   password_change_locked  1 = nobody may change this account's password until an admin
--                           unlocks it (PUT /api/auth/users/{id}/password-lock);
--   allowed_tags            NULL = every stream; else comma-separated stream tags: the user
--                           sees and controls only streams carrying one of them;
--   allowed_login_cidrs     NULL = from anywhere; else newline-separated networks in their
--                           normalised form (a bare address is stored as /32 or /128).
-- trusted_devices keeps only a SHA-256 digest of each device token (as sessions do): a
-- stolen database hands out no way past TOTP.
ALTER TABLE users ADD COLUMN password_change_locked INTEGER NOT NULL DEFAULT 0
    CHECK (password_change_locked IN (0, 1));
ALTER TABLE users ADD COLUMN allowed_tags TEXT DEFAULT NULL;
ALTER TABLE users ADD COLUMN allowed_login_cidrs TEXT DEFAULT NULL;

CREATE TABLE trusted_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token TEXT NOT NULL UNIQUE,
    ip_address TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),
    last_used_at INTEGER,
    expires_at INTEGER NOT NULL
);
CREATE INDEX idx_trusted_devices_user ON trusted_devices(user_id);
CREATE INDEX idx_trusted_devices_expires ON trusted_devices(expires_at);
