// System: version, uptime, CPU, memory with governor level, disk with pressure level,
// per-stream counters, recent logs, the security audit trail (admins), backup, restart and shutdown.
import {
  html, useEffect, useState, useInterval, get, post, isAdmin, toast, errText, fmtBytes, fmtDuration,
  fetchStreams, fmtTime, downloadUrl,
} from '../lib.js';
import { ErrorBox, Spinner, Badge, Icon, confirmDialog } from '../components.js';
import { streamState } from './live.js';

const pick = (...vals) => vals.find((v) => v !== undefined && v !== null);
const LEVELS = ['error', 'warning', 'info', 'debug'];
const LEVEL_KIND = { normal: 'ok', ok: 'ok', pressure: 'warn', warning: 'warn', critical: 'err', emergency: 'err' };

function Meter({ label, used, total, level, detail }) {
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  const lv = level ? String(level).toLowerCase() : null;
  return html`<div class="meter-card card">
    <div class="meter-head"><h3>${label}</h3>${lv && html`<span class=${'badge ' + (LEVEL_KIND[lv] || 'off')} title="Level">${lv}</span>`}</div>
    <div class="meter" role="meter" aria-label=${label} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(pct)}>
      <span style=${`width:${pct}%`} class=${pct > 90 ? 'hi' : pct > 75 ? 'mid' : ''}></span></div>
    <p class="small muted">${detail || (total ? `${fmtBytes(used)} of ${fmtBytes(total)} (${pct.toFixed(0)}%)` : '—')}</p>
  </div>`;
}

// What each audit kind means, in words (GET /api/system/audit; lightnvr/web/audit.py KINDS).
const AUDIT_TEXT = {
  login_failed: 'Failed sign-in', login_lockout: 'Sign-in locked', lockout_cleared: 'Lockout cleared',
  user_created: 'User created', user_deleted: 'User deleted', user_updated: 'User changed',
  role_changed: 'Role changed', password_changed: 'Password changed', totp_enabled: 'Two-factor on',
  totp_disabled: 'Two-factor off', api_key_changed: 'New API key', settings_changed: 'Settings changed',
};
const AUDIT_ALERT = new Set(['login_failed', 'login_lockout']);

function auditDetails(d) {
  if (!d || typeof d !== 'object') return '';
  return Object.entries(d).filter(([, v]) => v !== null && v !== '' && v !== false)
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${Array.isArray(v) ? v.join(', ') : v}`).join('; ');
}

function Audit() {
  const [events, setEvents] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const load = async (before) => {
    try {
      const r = await get(`/api/system/audit?limit=50${before ? `&before=${before}` : ''}`);
      setEvents((old) => (before && old ? [...old, ...r.events] : r.events));
      setNext(r.next_before ?? null); setError(null);
    } catch (err) { setError(err); }
  };
  useEffect(() => { load(); }, []);
  return html`<div class="card" id="audit">
    <div class="card-head"><h2>Security audit</h2>
      <button type="button" class="btn" onClick=${() => load()}><${Icon} name="refresh" /> Refresh</button></div>
    <${ErrorBox} error=${error} onRetry=${() => load()} />
    ${events === null && !error ? html`<${Spinner} />` : events && html`<div class="table-wrap" tabindex="0" role="region" aria-label="Security audit trail"><table class="table">
      <caption class="sr-only">Sign-ins, account and settings changes, newest first</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">By</th><th scope="col">Account</th><th scope="col">Address</th><th scope="col">Details</th></tr></thead>
      <tbody>${events.length === 0 ? html`<tr><td colspan="6" class="muted">Nothing recorded yet.</td></tr>` : events.map((e) => html`<tr key=${e.id} data-kind=${e.kind}>
        <td class="nowrap">${fmtTime(e.time)}</td>
        <td>${AUDIT_ALERT.has(e.kind) ? html`<span class="badge warn">${AUDIT_TEXT[e.kind] || e.kind}</span>` : AUDIT_TEXT[e.kind] || e.kind}</td>
        <td>${e.actor || html`<span class="muted">${e.kind === 'login_failed' ? 'unknown user' : '—'}</span>`}</td>
        <td>${e.target || '—'}</td><td class="nowrap">${e.ip || '—'}</td>
        <td class="small">${auditDetails(e.details)}</td></tr>`)}</tbody></table></div>`}
    ${next && html`<button type="button" class="btn" onClick=${() => load(next)}>Older entries</button>`}
  </div>`;
}

function Logs() {
  const [level, setLevel] = useState('info');
  const [logs, setLogs] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    try {
      const r = await get(`/api/system/logs?level=${level}&count=200`);
      const raw = Array.isArray(r) ? r : r.logs || r.entries || [];
      setLogs(raw.map((l) => (typeof l === 'string' ? { message: l } : l)));
      setError(null);
    } catch (err) { setError(err); }
  };
  useEffect(() => { load(); }, [level]);
  useInterval(load, 10000, [level]);
  return html`<div class="card">
    <div class="card-head"><h2>Recent logs</h2>
      <label class="inline">Level<select value=${level} onChange=${(e) => setLevel(e.currentTarget.value)}>
        ${LEVELS.map((l) => html`<option value=${l}>${l} and above</option>`)}</select></label></div>
    <${ErrorBox} error=${error} onRetry=${load} />
    ${logs === null && !error ? html`<${Spinner} />` : logs && html`<div class="logs" tabindex="0" role="log" aria-label="Log lines">
      ${logs.length === 0 && html`<p class="muted">No log lines at this level.</p>`}
      ${logs.slice().reverse().map((l) => html`<div class=${'log-line lv-' + String(l.level || '').toLowerCase()}>
        <span class="log-ts">${fmtTime(l.time ?? l.timestamp)}</span>
        <span class="log-lv">${l.level || ''}</span><span class="log-msg">${l.logger ? `${l.logger}: ` : ''}${l.message}</span></div>`)}
    </div>`}
  </div>`;
}

// Per-stream storage used and how many days of footage are kept (GET /api/storage/streams).
function StreamStorage({ data }) {
  const items = data.streams || [];
  const total = items.reduce((n, s) => n + (s.size || 0), 0);
  const keep = (d) => (d === 0 ? 'until space runs out' : `${d} day${d === 1 ? '' : 's'}`);
  return html`<div class="card" id="stream-storage">
    <h2>Storage per stream</h2>
    <div class="table-wrap" tabindex="0" role="region" aria-label="Storage per stream"><table class="table stats-sm">
      <caption class="sr-only">Space used and footage kept, per stream, largest first</caption>
      <thead><tr><th scope="col">Stream</th><th scope="col">Space used</th><th scope="col">Recordings</th>
        <th scope="col">Footage kept</th><th scope="col">Oldest recording</th><th scope="col">Retention</th></tr></thead>
      <tbody>${items.length === 0 ? html`<tr><td colspan="6" class="muted">Nothing recorded yet.</td></tr>` : items.map((s) => html`<tr key=${s.name} data-stream=${s.name}>
        <td class="span-sm">${s.name}${!s.configured && html` <span class="chip">removed</span>`}</td>
        <td class="nowrap" data-label="Space used">${fmtBytes(s.size)}${total ? html` <span class="muted small">(${Math.round((s.size / total) * 100)} %)</span>` : ''}</td>
        <td data-label="Recordings">${s.count}</td>
        <td class="nowrap" data-label="Footage kept" data-days=${s.days_kept}>${s.days_kept >= 1 ? `${s.days_kept.toFixed(1)} days` : s.oldest ? `${fmtDuration((Date.now() / 1000) - s.oldest)}` : '—'}</td>
        <td class="nowrap" data-label="Oldest recording">${s.oldest ? fmtTime(s.oldest) : '—'}</td>
        <td data-label="Retention">${keep(s.effective_retention_days)}${s.retention_days < 0 ? html` <span class="muted small">(global)</span>` : ''}</td></tr>`)}
      </tbody></table></div>
  </div>`;
}

export function SystemPage({ user }) {
  const [info, setInfo] = useState(null);
  const [streams, setStreams] = useState([]);
  const [storage, setStorage] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { document.title = 'System · LightNVR'; }, []);
  const load = async () => {
    try {
      const [i, s, st, ss] = await Promise.all([get('/api/system'), fetchStreams().catch(() => []),
        get('/api/system/status').catch(() => ({})), get('/api/storage/streams').catch(() => null)]);
      setInfo({ ...i, _status: st }); setStreams(s); setStorage(ss); setError(null);
    } catch (err) { setError(err); }
  };
  useEffect(() => { load(); }, []);
  useInterval(load, 5000);

  const action = async (what) => {
    const text = {
      restart: ['Restart LightNVR?', 'Recording stops for a few seconds while the service restarts.', 'Restart'],
      shutdown: ['Shut down LightNVR?', 'Recording stops until someone starts the service again.', 'Shut down'],
    }[what];
    if (!await confirmDialog({ title: text[0], message: text[1], confirm: text[2], danger: true })) return;
    try { await post(`/api/system/${what}`); toast(what === 'restart' ? 'Restarting…' : 'Shutting down…', 'ok', 8000); } catch (err) { toast(errText(err), 'error'); }
  };
  const backup = async () => {
    try {
      const r = await post('/api/system/backup');
      const url = r.backupUrl || r.backup_url || r.url;
      toast(`${r.message || 'Backup written'}${r.path || r.filename ? `: ${r.path || r.filename}` : ''}`, 'ok', 8000);
      if (url) downloadUrl(url, r.filename);
    } catch (err) { toast(errText(err), 'error'); }
  };

  if (!info) return html`<section class="page"><h1>System</h1><${ErrorBox} error=${error} onRetry=${load} />${!error && html`<${Spinner} />`}</section>`;
  const mem = info.memory || {};
  const sysMem = info.systemMemory || info.system_memory || {};
  const disk = info.disk || info.storage || {};
  const st = info._status || {};
  const gov = pick(st.memory_pressure, info.governor && info.governor.level, mem.governor_level, info.memory_pressure);
  const pressure = pick(st.storage && st.storage.level, disk.pressure_level, disk.pressure, info.storage_pressure);
  const paused = st.storage && st.storage.recording_paused;
  const cpu = info.cpu || {};
  const cpuPct = Number(pick(cpu.usage, cpu.percent, info.cpu_usage, 0));
  const ownPct = cpu.process_usage === undefined ? null : Number(cpu.process_usage);
  const versions = (info.versions && info.versions.items) || [];
  // Counted from the same list as the table below, so the two always agree (the stream manager's
  // own figure once read "1 / 1" above a table of three) and the card can say what it counts.
  const running = streams.filter((s) => ['active', 'recording'].includes(streamState(s))).length;
  return html`<section class="page">
    <div class="page-head"><h1>System</h1>
      ${isAdmin(user) && html`<div class="row">
        <button type="button" class="btn" onClick=${backup}><${Icon} name="download" /> Backup</button>
        <button type="button" class="btn" onClick=${() => action('restart')}><${Icon} name="refresh" /> Restart</button>
        <button type="button" class="btn danger" onClick=${() => action('shutdown')}>Shut down</button></div>`}
    </div>
    <${ErrorBox} error=${error} onRetry=${load} />
    <div class="stats">
      <div class="stat card"><span class="stat-label">Version</span><span class="stat-value">${info.version || '—'}</span></div>
      <div class="stat card"><span class="stat-label">Uptime</span><span class="stat-value">${fmtDuration(pick(info.uptime, info.uptime_seconds, 0))}</span></div>
      <div class="stat card" data-testid="streams-stat"><span class="stat-label">Streams</span><span class="stat-value">${running} of ${streams.length}</span>
        <span class="small muted">running</span></div>
      <div class="stat card"><span class="stat-label">Recordings</span><span class="stat-value">${info.recordings ? `${info.recordings.count ?? '—'}` : '—'}</span>
        ${info.recordings && info.recordings.size !== undefined && html`<span class="small muted">${fmtBytes(info.recordings.size)}</span>`}</div>
    </div>
    ${paused && html`<div class="alert error" role="alert">Recording is paused: the disk is nearly full (${pressure}).</div>`}
    <div class="meters">
      <${Meter} label="CPU" used=${cpuPct} total=${100} detail=${html`<span data-testid="cpu-machine" data-value=${cpuPct}>Whole machine: ${cpuPct.toFixed(1)} %${cpu.cores ? ` of ${cpu.cores} cores` : ''}</span>${ownPct !== null
        ? html`<br /><span data-testid="cpu-process" data-value=${ownPct} data-interval=${cpu.interval}>LightNVR: ${ownPct.toFixed(1)} %${cpu.cores > 1 ? ` (${Number(cpu.process_cores_pct || 0).toFixed(0)} % of one core)` : ''}</span>` : ''}`} />
      <${Meter} label="Memory (LightNVR)" used=${pick(mem.used, mem.rss, 0)} total=${pick(mem.total, mem.limit, sysMem.total, 0)} level=${gov} />
      <${Meter} label="Memory (system)" used=${pick(sysMem.used, 0)} total=${pick(sysMem.total, 0)} />
      <${Meter} label="Recording disk" used=${pick(disk.used, 0)} total=${pick(disk.total, 0)} level=${pressure}
        detail=${disk.total ? `${fmtBytes(disk.free)} free of ${fmtBytes(disk.total)}` : undefined} />
    </div>
    <div class="card">
      <h2>Streams</h2>
      <div class="table-wrap" tabindex="0" role="region" aria-label="Stream statistics"><table class="table stats-sm">
        <caption class="sr-only">Per-stream statistics</caption>
        <thead><tr><th scope="col">Stream</th><th scope="col">State</th><th scope="col">FPS</th><th scope="col">Bitrate</th><th scope="col">Dropped frames</th><th scope="col">Reconnects</th></tr></thead>
        <tbody>${streams.length === 0 ? html`<tr><td colspan="6" class="muted">No streams</td></tr>` : streams.map((s) => {
          const x = s.stats || {};
          const bps = pick(x.bitrate_bps, s.bitrate_bps);
          const fps = pick(x.fps, s.fps);
          return html`<tr key=${s.name}><td>${s.name}</td><td><${Badge} state=${streamState(s)} title=${s.last_error || undefined} /></td>
            <td data-label="FPS">${fps ? Number(fps).toFixed(fps % 1 ? 1 : 0) : '—'}</td>
            <td class="nowrap" data-label="Bitrate">${bps ? `${(bps / 1000).toFixed(0)} kbit/s` : '—'}</td>
            <td data-label="Dropped frames">${pick(x.dropped, x.drops, s.drops, 0)}${pick(x.dropped, 0) > 0 && gov && String(gov).toLowerCase() !== 'normal' ? html` <span class="badge warn">memory ${String(gov).toLowerCase()}</span>` : ''}</td>
            <td data-label="Reconnects">${pick(x.reconnects, s.reconnects, 0)}</td></tr>`;
        })}</tbody></table></div>
      <p class="small muted">Dropped frames: video that live view, detection or recording did not take, counted since the
        stream started. A number that keeps climbing means one of them falls behind (its queue was full) or memory ran short
        (memory level now ${gov ? String(gov).toLowerCase() : 'normal'}: under pressure live view and detection get keyframes only,
        when critical they pause). Whole keyframe groups go together, so the picture never breaks. Recording is never slowed down
        for memory; if its queue overflows, the recording shows a gap.</p>
    </div>
    ${storage && html`<${StreamStorage} data=${storage} />`}
    ${isAdmin(user) && html`<${Logs} />`}
    ${isAdmin(user) && html`<${Audit} />`}
    ${versions.length > 0 && html`<details class="card fold"><summary>Software versions</summary>
      <dl class="meta">${versions.map((v) => html`<div><dt>${v.name}</dt><dd>${v.version || v.details || '—'}</dd></div>`)}</dl></details>`}
  </section>`;
}
