// Settings: the INI settings in one tab per section, validated in the browser, saved with POST;
// a server rejection is shown beside the field it names.
import { html, useEffect, useState, get, post, errText, toast, ApiError, fmtBytes } from '../lib.js';
import { ErrorBox, Spinner, Tabs, Field, Toggle, confirmDialog } from '../components.js';

// Tabs as LightNVR's settings page groups them.
const SECTIONS = [
  ['general', 'General'], ['storage', 'Storage'], ['streams', 'Streams'], ['detection', 'Detection'],
  ['mqtt', 'MQTT'], ['security', 'Security'], ['advanced', 'Advanced'], ['other', 'Other'],
];

// Every setting the server names (LightNVR's flat names): tab, label in words with its unit,
// and what it does. A key missing here still shows (under Other) with a humanised name, and
// the UI test that compares labels with the keys fails until it is described.
const META = {
  web_port: ['general', 'Web server port', 'The TCP port of this web interface and the API.'],
  web_bind_ip: ['general', 'Listen address', 'The address the web server listens on: 0.0.0.0 for every network, 127.0.0.1 for this machine only.'],
  web_root: ['general', 'Web interface folder', 'Where the files of this web interface are installed.'],
  web_thread_pool_size: ['advanced', 'Web worker threads (count)', 'How many requests are answered at the same time.'],
  demo_mode: ['general', 'Demo camera', 'Adds a built-in test camera, so live view and recording work without hardware.'],
  log_level: ['general', 'Log detail', 'How much the NVR writes to its log: errors only up to debugging detail.'],
  log_file: ['general', 'Where the log is written', 'A file path; the System page shows its recent lines too.'],
  pid_file: ['advanced', 'Process ID file', 'Where the running process writes its ID (used by service managers).'],
  syslog_enabled: ['general', 'Also log to syslog', 'Sends log lines to the system log as well as the log file.'],
  syslog_ident: ['general', 'Syslog name', 'The program name log lines carry in the system log.'],
  syslog_facility: ['general', 'System log category', 'Such as LOG_USER or LOG_LOCAL0.'],
  storage_path: ['storage', 'Recordings folder', 'Where recordings (MP4 files) are stored.'],
  storage_path_hls: ['storage', 'Live view folder', 'Where the short-lived live-view pieces are written; a RAM disk spares SD cards.'],
  max_storage_size: ['storage', 'Storage limit (bytes, 0 = no limit)', 'When recordings take more than this, the oldest are deleted first.'],
  retention_days: ['storage', 'Keep recordings for (days)', 'Recordings older than this are deleted, unless protected. A stream may set its own.'],
  auto_delete_oldest: ['storage', 'Delete the oldest when the disk is full', 'Frees space for new footage instead of stopping recording.'],
  storage_min_free_pct: ['storage', 'Keep free on the disk (%)', 'Recording pauses rather than fill the disk beyond this.'],
  storage_pressure_warning_pct: ['storage', 'Low-space warning below (% free)', 'The System page and events warn when free space drops under this.'],
  storage_pressure_critical_pct: ['storage', 'Critical below (% free)', 'Retention deletes more eagerly below this.'],
  storage_pressure_emergency_pct: ['storage', 'Emergency below (% free)', 'Recording pauses below this until space is freed.'],
  generate_thumbnails: ['storage', 'Recording previews', 'Shows a still picture for each recording in the list.'],
  thumbnails_per_recording: ['storage', 'Previews per recording (count)', 'How many stills are made for each recording.'],
  mp4_segment_duration: ['streams', 'Default segment length (seconds)', 'Length of each recording file for streams that do not set their own.'],
  mp4_directory_format: ['storage', 'Folder layout', 'How recording files are sorted into folders by date.'],
  max_streams: ['streams', 'Maximum cameras (count)', 'How many streams may be configured.'],
  db_path: ['advanced', 'Database file', 'Where streams, users and the recordings index are stored.'],
  db_backup_interval_minutes: ['advanced', 'Database backup every (minutes, 0 = never)', 'How often a copy of the database is made.'],
  db_backup_retention_count: ['advanced', 'Database backups kept (count)', 'Older backups are deleted.'],
  buffer_size: ['advanced', 'Packet buffer (KB)', 'Memory set aside for video packets in transit.'],
  api_detection_url: ['detection', 'Detection service address', 'The URL of an external object-detection service, for streams that use it.'],
  default_detection_threshold: ['detection', 'Detection confidence needed, by default (%)', 'Minimum confidence, in percent, for a detection to count; the same unit as in each stream.'],
  pre_detection_buffer: ['detection', 'Record before a detection (seconds)', 'Footage kept from before the moment something was detected.'],
  post_detection_buffer: ['detection', 'Record after a detection (seconds)', 'Recording goes on this long after the last detection.'],
  detection_grace_period: ['detection', 'One event unless apart by more than (seconds)', 'Detections this close together belong to one event.'],
  web_auth_enabled: ['security', 'Require sign-in', 'Off lets anyone who can reach this page use it.'],
  auth_timeout_hours: ['security', 'Sign out after inactivity (hours)', 'A session unused this long must sign in again.'],
  auth_absolute_timeout_hours: ['security', 'Sign out after at most (hours)', 'Even an active session must sign in again after this long.'],
  login_rate_limit_enabled: ['security', 'Slow down password guessing', 'Blocks sign-in for a while after repeated wrong passwords.'],
  login_rate_limit_max_attempts: ['security', 'Wrong passwords allowed (count)', 'Failed sign-ins from one address before it is blocked.'],
  login_rate_limit_window_seconds: ['security', 'Counted over (seconds)', 'The time window for counting failed sign-ins.'],
  mqtt_enabled: ['mqtt', 'Publish to MQTT', 'Sends detections and camera states to an MQTT broker (e.g. for Home Assistant).'],
  mqtt_broker_host: ['mqtt', 'Broker address', 'Host name or IP address of the MQTT broker.'],
  mqtt_broker_port: ['mqtt', 'Broker port', '1883 for plain connections, usually 8883 with TLS.'],
  mqtt_username: ['mqtt', 'Broker user name', 'Leave empty if the broker needs no sign-in.'],
  mqtt_password: ['mqtt', 'Broker password', 'Stored on the NVR, never shown again.'],
  mqtt_client_id: ['mqtt', 'Client name', 'How this NVR identifies itself to the broker; unique per device.'],
  mqtt_topic_prefix: ['mqtt', 'Topic prefix', 'Every message topic starts with this.'],
  mqtt_tls_enabled: ['mqtt', 'Encrypt (TLS)', 'Connects to the broker over TLS.'],
  mqtt_tls_ca_file: ['mqtt', 'Broker certificate authority file', 'Certificate file to trust for the broker; empty uses the system\u2019s.'],
  mqtt_keepalive: ['mqtt', 'Keep-alive interval (seconds)', 'How often the connection is checked.'],
  mqtt_qos: ['mqtt', 'Delivery guarantee (QoS 0–2)', '0: at most once, 1: at least once, 2: exactly once.'],
  mqtt_retain: ['mqtt', 'Broker keeps the last message', 'New subscribers get the latest state at once.'],
  mqtt_ha_discovery: ['mqtt', 'Home Assistant discovery', 'Announces the cameras to Home Assistant automatically.'],
  mqtt_ha_discovery_prefix: ['mqtt', 'Home Assistant discovery prefix', 'Home Assistant listens under this prefix (normally "homeassistant").'],
  mqtt_ha_snapshot_interval: ['mqtt', 'Camera picture every (seconds, 0 = never)', 'How often a still of each camera is sent to Home Assistant.'],
  onvif_discovery_enabled: ['advanced', 'Find ONVIF cameras', 'Looks for ONVIF cameras on the network (not available yet).'],
  onvif_discovery_interval: ['advanced', 'Look for cameras every (seconds)', 'How often the network is searched.'],
  onvif_discovery_network: ['advanced', 'Network to search', '"auto" or a network such as 192.168.1.0/24.'],
};
const CHOICES = {
  log_level: [[0, 'Errors only'], [1, 'Warnings'], [2, 'Information'], [3, 'Debugging detail']],
  mp4_directory_format: [['year_month_day', 'Year / month / day'], ['year_month', 'Year / month'], ['flat', 'All in one folder']],
};
const RANGES = [
  [/port$/, 1, 65535], [/_pct$/, 0, 100], [/^log_level$/, 0, 3], [/retention_days$/, 0, 36500],
  [/threshold$/, 0, 100],
  [/(timeout_hours|interval|count|max_attempts|window_seconds|keepalive)/, 0, 1e7], [/qos$/, 0, 2],
];

const bare = (k) => k.replace(/^.*\./, '');
function humanise(key) {
  const b = bare(key);
  if (META[b]) return META[b][1];
  const s = b.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
const helpOf = (key) => (META[bare(key)] || [])[2];
// The server's message opens with the raw key ("syslog_facility: 'X' is not allowed ..."); a user
// knows the field by its label, so the banner names the label and the field's own note drops it.
const keyLead = (key) => new RegExp(`^\\s*(\\[\\w+\\]\\s*)?(\\w+\\.)?${bare(key)}\\s*:\\s*`);
const inWords = (msg, key, label = true) => String(msg || '').replace(keyLead(key), label ? `${humanise(key)}: ` : '');

// → { nested: bool, values: {"section.key": value} }
function flatten(data) {
  const entries = Object.entries(data || {});
  const nested = entries.length > 0 && entries.every(([, v]) => v && typeof v === 'object' && !Array.isArray(v));
  const values = {};
  if (nested) {
    for (const [sec, obj] of entries) for (const [k, v] of Object.entries(obj)) values[`${sec}.${k}`] = v;
  } else {
    for (const [k, v] of entries) {
      if (v && typeof v === 'object') continue; // arrays/objects are not INI values
      values[`${META[k] ? META[k][0] : 'other'}.${k}`] = v;
    }
  }
  return { nested, values };
}

function validate(key, value, original) {
  const b = bare(key);
  if (typeof original === 'number') {
    if (value === '' || !Number.isFinite(Number(value))) return 'Enter a number';
    const r = RANGES.find(([re]) => re.test(b));
    if (r && (Number(value) < r[1] || Number(value) > r[2])) return `Between ${r[1]} and ${r[2]}`;
    if (Number(value) < 0 && !/retention|threshold/.test(b)) return 'Must not be negative';
  }
  if (/(^|_)path$|_file$|^path_/.test(b) && typeof value === 'string' && value && !value.startsWith('/')) {
    return 'Use an absolute path (starting with /)';
  }
  return null;
}

// Which of our keys does a server error name? Accepts "key", "section.key", "[section] key".
function matchField(err, keys) {
  const cands = [err.field, err.body && err.body.section && err.field && `${err.body.section}.${err.field}`].filter(Boolean);
  for (const c of cands) {
    const norm = String(c).replace(/^\[(\w+)\]\s*/, '$1.');
    const hit = keys.find((k) => k === norm) || keys.find((k) => bare(k) === bare(norm));
    if (hit) return hit;
  }
  const msg = String(err.message || '');
  const lead = msg.match(/^\s*([\w.]+)\s*:/); // "retention_days: must be a number"
  if (lead) {
    const hit = keys.find((k) => k === lead[1]) || keys.find((k) => bare(k) === bare(lead[1]));
    if (hit) return hit;
  }
  const m = msg.match(/\[(\w+)\]\s*(\w+)/) || msg.match(/\b(\w+)\.(\w+)\b/);
  if (m && keys.includes(`${m[1]}.${m[2]}`)) return `${m[1]}.${m[2]}`;
  return keys.filter((k) => new RegExp(`\\b${bare(k)}\\b`).test(msg)).sort((a, b) => bare(b).length - bare(a).length)[0] || null;
}

function SettingInput({ k, value, original, onChange, error, live }) {
  const b = bare(k);
  const later = live && !live.has(b) ? ' Applies after a restart.' : '';
  const bytes = b === 'max_storage_size' && Number(value) > 0 ? ` Now ${fmtBytes(Number(value))}.` : '';
  const help = `${helpOf(k) || ''}${bytes}${later}`.trim() || undefined;
  if (typeof original === 'boolean') {
    return html`<div class=${'field' + (error ? ' has-error' : '')}><${Toggle} label=${humanise(k)} name=${k} checked=${value} onChange=${onChange} hint=${help} />
      ${error && html`<small class="field-error" role="alert">${error}</small>`}</div>`;
  }
  const choices = CHOICES[b];
  return html`<${Field} label=${humanise(k)} error=${error} hint=${help}>${(id, d) => (choices
    ? html`<select id=${id} name=${k} value=${String(value)} aria-describedby=${d} aria-invalid=${error ? 'true' : undefined}
        onChange=${(e) => onChange(typeof original === 'number' ? Number(e.currentTarget.value) : e.currentTarget.value)}>
        ${choices.map(([v, l]) => html`<option value=${String(v)}>${l}</option>`)}</select>`
    : html`<input id=${id} name=${k} aria-describedby=${d} aria-invalid=${error ? 'true' : undefined}
        type=${typeof original === 'number' ? 'number' : /password|secret/.test(b) ? 'password' : 'text'}
        autocomplete=${/password|secret/.test(b) ? 'new-password' : 'off'}
        value=${value ?? ''} onInput=${(e) => onChange(e.currentTarget.value)} />`)}<//>`;
}

// The MQTT tab's live connection state (GET /api/mqtt/status, polled while the tab shows).
function MqttState() {
  const [st, setSt] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => {
    let live = true;
    const poll = async () => {
      try { const s = await get('/api/mqtt/status'); if (live) { setSt(s); setErr(null); } } catch (e) { if (live) setErr(e); }
    };
    poll();
    const timer = setInterval(poll, 5000);
    return () => { live = false; clearInterval(timer); };
  }, []);
  if (err) return html`<p class="field-error" role="status">MQTT status unavailable: ${errText(err)}</p>`;
  if (!st) return html`<p class="muted" role="status">Checking the MQTT connection…</p>`;
  const label = { connected: 'Connected', connecting: 'Connecting…', disconnected: 'Disconnected', refused: 'Refused by the broker', disabled: 'Off' }[st.state] || st.state;
  return html`<div class="mqtt-state" role="status" data-state=${st.state}>
    <strong>Connection: ${label}</strong>${st.broker && st.state !== 'disabled' ? html` <span class="muted">(${st.broker})</span>` : ''}
    ${st.state === 'disabled' ? html`<p class="muted">Nothing is sent. Turn on "Publish to MQTT" and give the broker address to start.</p>`
    : st.last_error && html`<p class=${st.state === 'connected' ? 'muted' : 'field-error'}>${st.last_error}</p>`}
    ${st.state !== 'disabled' && html`<p class="muted">${st.published ?? 0} published, ${st.queued ?? 0} queued, ${st.dropped ?? 0} dropped while the broker was away</p>`}
    <p class="muted">Changes to MQTT settings apply after a restart.</p>
  </div>`;
}

export function SettingsPage() {
  const [orig, setOrig] = useState(null);
  const [vals, setVals] = useState({});
  const [nested, setNested] = useState(true);
  const [tab, setTab] = useState('general');
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [live, setLive] = useState(null); // keys the server applies without a restart
  const [pending, setPending] = useState([]); // saved keys that wait for a restart
  useEffect(() => { document.title = 'Settings · LightNVR'; }, []);
  useEffect(() => { get('/api/settings/meta').then((m) => setLive(new Set(m.applied_live || []))).catch(() => {}); }, []);
  const restart = async () => {
    if (!await confirmDialog({ title: 'Restart the NVR?', message: `Recording stops for a few seconds while it restarts, then these changes apply: ${pending.map(humanise).join(', ')}.`, confirm: 'Restart now', danger: true })) return;
    try {
      await post('/api/system/restart', {});
      setPending([]);
      toast('Restarting — the page reconnects by itself', 'ok', 8000);
    } catch (err) { setError(err); }
  };
  const load = async () => {
    try {
      const data = await get('/api/settings');
      const f = flatten(data.settings && typeof data.settings === 'object' ? data.settings : data);
      setOrig(f.values); setVals(f.values); setNested(f.nested); setError(null); setErrors({});
    } catch (err) { setError(err); }
  };
  useEffect(() => { load(); }, []);

  if (!orig) return html`<section class="page"><h1>Settings</h1><${ErrorBox} error=${error} onRetry=${load} />${!error && html`<${Spinner} />`}</section>`;
  const keys = Object.keys(orig);
  const present = SECTIONS.filter(([id]) => keys.some((k) => k.startsWith(id + '.')));
  const changed = keys.filter((k) => String(vals[k]) !== String(orig[k]));
  const tabs = present.map(([id, label]) => ({ id, label, dirty: changed.some((k) => k.startsWith(id + '.')) }));
  const active = present.some(([id]) => id === tab) ? tab : (present[0] || ['general'])[0];

  const save = async (e) => {
    e.preventDefault();
    const errs = {};
    for (const k of changed) { const m = validate(k, vals[k], orig[k]); if (m) errs[k] = m; }
    setErrors(errs);
    if (Object.keys(errs).length) {
      setTab(Object.keys(errs)[0].split('.')[0]);
      setError(new Error('Some values are not valid — see the highlighted fields'));
      return;
    }
    if (!changed.length) { toast('Nothing to save'); return; }
    const body = {};
    for (const k of changed) {
      const [sec, key] = [k.split('.')[0], k.slice(k.indexOf('.') + 1)];
      const v = typeof orig[k] === 'number' ? Number(vals[k]) : vals[k];
      if (nested) (body[sec] = body[sec] || {})[key] = v;
      else body[key] = v;
    }
    setBusy(true);
    try {
      const res = await post('/api/settings', body);
      const later = (res && res.restart_required_for) || [];
      if (later.length) setPending([...new Set([...pending, ...later])]);
      toast(later.length ? `Saved — ${later.map(humanise).join(', ')} apply after a restart` : 'Settings saved, in effect now', 'ok');
      await load();
    } catch (err) {
      const hit = err instanceof ApiError ? matchField(err, keys) : null;
      if (err instanceof ApiError && err.fields) {
        const fe = {};
        for (const [fk, msg] of Object.entries(err.fields)) { const m = matchField({ field: fk, message: '' }, keys); if (m) fe[m] = inWords(msg, m, false); }
        setErrors(fe);
      } else if (hit) { setErrors({ [hit]: inWords(err.message, hit, false) }); setTab(hit.split('.')[0]); }
      setError(hit ? new Error(`Not saved: ${inWords(err.message, hit)}`) : err);
    } finally { setBusy(false); }
  };
  return html`<section class="page">
    <div class="page-head"><h1>Settings</h1></div>
    <form class="settings" onSubmit=${save} novalidate>
      <${ErrorBox} error=${error} />
      ${pending.length > 0 && html`<div class="alert info" role="status" data-testid="restart-needed">
        <span><strong>Saved, waiting for a restart:</strong> ${pending.map(humanise).join(', ')}.</span>
        <button type="button" class="btn small" onClick=${restart}>Restart now</button></div>`}
      <${Tabs} tabs=${tabs} active=${active} onChange=${setTab} label="Settings sections" />
      ${present.map(([id]) => html`<div role="tabpanel" id=${'panel-' + id} aria-labelledby=${'tab-' + id}
          hidden=${id !== active} class="card form-grid settings-panel">
        ${id === 'mqtt' && id === active && html`<${MqttState} />`}
        ${keys.filter((k) => k.startsWith(id + '.')).map((k) => html`<${SettingInput} key=${k} k=${k}
          value=${vals[k]} original=${orig[k]} error=${errors[k]} live=${live}
          onChange=${(v) => { setVals({ ...vals, [k]: v }); if (errors[k]) setErrors({ ...errors, [k]: null }); }} />`)}
      </div>`)}
      <div class="form-actions sticky-actions">
        <span class="muted">${changed.length ? `${changed.length} unsaved change${changed.length > 1 ? 's' : ''}` : 'No changes'}</span>
        <button type="button" class="btn" disabled=${!changed.length || busy} onClick=${() => { setVals(orig); setErrors({}); setError(null); }}>Discard</button>
        <button type="submit" class="btn primary" disabled=${busy || !changed.length}>${busy ? 'Saving…' : 'Save settings'}</button>
      </div>
    </form>
  </section>`;
}

export { errText };
