// Shared helpers: the htm binding, the API client, formatting and a tiny global store.
// htm's standalone build carries Preact and its hooks in one ES module with no bare imports,
// so the page needs no import map (an inline script the CSP `script-src 'self'` would block).
import {
  h, html, render, useEffect, useRef, useState, useCallback, useMemo,
} from '/node_modules/htm/preact/standalone.module.js';

export { h, html, render, useEffect, useRef, useState, useCallback, useMemo };

// ---------------------------------------------------------------------------------------------
// Store: a handful of global values (session, toasts) with subscribe; pages keep their own state.
const listeners = new Set();
export const store = { user: null, authChecked: false, toasts: [], theme: null };

export function setStore(patch) {
  Object.assign(store, patch);
  for (const fn of listeners) fn(store);
}

export function useStore() {
  const [, force] = useState(0);
  useEffect(() => {
    const fn = () => force((n) => n + 1);
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return store;
}

let toastSeq = 0;
// A toast belongs to the page it was raised on: leaving the page drops it, so a "Saved" from
// Settings never shows up over the Live view.
const pageOf = (hash) => (hash || '').split('?')[0];
export function toast(message, kind = 'info', ms = 5000) {
  const id = ++toastSeq;
  setStore({ toasts: [...store.toasts, { id, message, kind, page: pageOf(location.hash) }] });
  setTimeout(() => setStore({ toasts: store.toasts.filter((t) => t.id !== id) }), ms);
}
if (typeof window !== 'undefined') {
  // After the router has seen the change (a store update inside its hashchange would make it
  // act on the old route, e.g. send a fresh sign-in to the Live page instead of back).
  window.addEventListener('hashchange', () => setTimeout(() => {
    const here = pageOf(location.hash);
    if (store.toasts.some((t) => t.page !== here)) setStore({ toasts: store.toasts.filter((t) => t.page === here) });
  }, 0));
}

// ---------------------------------------------------------------------------------------------
// API client. Every failure becomes an ApiError with a sentence a person can read.
export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body || {};
    // The server may name the offending field; settings and forms show the message beside it.
    this.field = this.body.field || this.body.key || this.body.param || null;
    this.fields = typeof this.body.errors === 'object' && !Array.isArray(this.body.errors)
      ? this.body.errors : null;
  }
}

const STATUS_TEXT = {
  400: 'The request was not accepted',
  401: 'Your session has expired — please sign in again',
  403: 'You do not have permission to do that',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'The request is too large',
  429: 'Too many attempts — wait a moment and try again',
  500: 'The server hit an internal error',
  502: 'The server is not reachable',
  503: 'The service is unavailable',
};

// Paths for which a 401 means "wrong credentials", not "session expired".
const AUTH_PATHS = ['/api/auth/login', '/api/auth/login/totp', '/api/auth/verify'];

export async function api(method, path, body, opts = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (opts.signal) init.signal = opts.signal;
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError('Cannot reach the NVR — check the network connection', 0);
  }
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) {
    try { data = await res.json(); } catch { data = null; }
  } else if (opts.text) {
    data = await res.text();
  }
  if (!res.ok) {
    const msg = (data && (data.error || data.message)) || STATUS_TEXT[res.status]
      || `Request failed (HTTP ${res.status})`;
    const err = new ApiError(String(msg), res.status, data);
    if (res.status === 401 && !AUTH_PATHS.includes(path.split('?')[0])) sessionExpired();
    throw err;
  }
  if (data === null && !opts.text && res.status !== 204) {
    // Some endpoints answer plain text; accept it rather than failing.
    return {};
  }
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b === undefined ? {} : b, o);
export const put = (p, b, o) => api('PUT', p, b === undefined ? {} : b, o);
export const del = (p, o) => api('DELETE', p, undefined, o);

export function errText(err) {
  if (!err) return '';
  if (err instanceof ApiError) return err.message;
  return (err && err.message) || String(err);
}

// Remember where the user was, so the login page can send them back.
export function sessionExpired() {
  if (!store.user) return;
  const here = location.hash || '#/live';
  if (!here.startsWith('#/login')) sessionStorage.setItem('lightnvr.returnTo', here);
  setStore({ user: null, sessionExpired: true });
  location.hash = '#/login';
}

// ---------------------------------------------------------------------------------------------
// Roles: the server may say "admin" or 0. Lower number = more power; api(3) can write like user.
const ROLE_NAMES = ['admin', 'user', 'viewer', 'api'];
export function roleName(role) {
  if (typeof role === 'number') return ROLE_NAMES[role] || 'viewer';
  const s = String(role || '').toLowerCase();
  return ROLE_NAMES.includes(s) ? s : 'viewer';
}
export const roleId = (role) => Math.max(0, ROLE_NAMES.indexOf(roleName(role)));
export const ROLES = ROLE_NAMES;
// What each role may do (the server enforces it: web/http.py Access, docs/security.md).
export const ROLE_HELP = {
  admin: 'Everything: cameras, recordings, settings, users, restart.',
  user: 'Watches and records; adds and edits cameras; protects, exports and deletes recordings. No settings or users.',
  viewer: 'Watches live view and recordings and downloads them. Changes nothing.',
  api: 'For programs (API key): the same rights as a user, no settings or users.',
};
export const canWrite = (user) => !!user && roleName(user.role) !== 'viewer';
export const isAdmin = (user) => !!user && roleName(user.role) === 'admin';

// ---------------------------------------------------------------------------------------------
// Formatting
export function fmtBytes(n) {
  n = Number(n);
  if (!Number.isFinite(n) || n < 0) return '—';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${u[i]}`;
}

export function fmtDuration(sec) {
  sec = Math.max(0, Math.round(Number(sec) || 0));
  const d = Math.floor(sec / 86400), hh = Math.floor((sec % 86400) / 3600);
  const mm = Math.floor((sec % 3600) / 60), ss = sec % 60;
  if (d) return `${d}d ${hh}h ${mm}m`;
  if (hh) return `${hh}h ${mm}m`;
  if (mm) return `${mm}m ${ss}s`;
  return `${ss}s`;
}

const pad = (n) => String(n).padStart(2, '0');
// Unix seconds (or an ISO/"YYYY-MM-DD HH:MM:SS" string) → Date
export function toDate(v) {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v);
  if (typeof v === 'string' && v) {
    if (/^\d+(\.\d+)?$/.test(v)) return toDate(Number(v));
    const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) || v.includes('T') ? v : v.replace(' ', 'T') + 'Z');
    if (!Number.isNaN(d.getTime())) return d;
  }
  return null;
}
export function fmtTime(v) {
  const d = toDate(v);
  if (!d) return '—';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
    + `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
export function fmtClock(d) {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
export function isoDay(d = new Date()) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
export const unix = (d) => Math.floor(d.getTime() / 1000);

// Recording rows from different server versions: normalise the fields the UI needs.
export function recStart(r) { return toDate(r.start_time_unix ?? r.start_timestamp ?? r.start_time); }
export function recEnd(r) { return toDate(r.end_time_unix ?? r.end_timestamp ?? r.end_time); }
export function recDuration(r) {
  if (Number.isFinite(Number(r.duration)) && r.duration !== null) return Number(r.duration);
  const s = recStart(r), e = recEnd(r);
  return s && e ? (e - s) / 1000 : 0;
}
export function recStream(r) { return r.stream ?? r.stream_name ?? ''; }
export function recTrigger(r) { return r.capture_method ?? r.trigger_type ?? 'scheduled'; }
export function recSize(r) {
  return typeof r.size_bytes === 'number' ? r.size_bytes
    : (typeof r.size === 'number' ? r.size : null);
}

export const enc = encodeURIComponent;

// Stream list: the server answers a JSON array; older docs show {streams:[...]}.
export async function fetchStreams() {
  const data = await get('/api/streams');
  return Array.isArray(data) ? data : (data && data.streams) || [];
}

export function useInterval(fn, ms, deps = []) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!ms) return undefined;
    const id = setInterval(() => ref.current(), ms);
    return () => clearInterval(id);
  }, [ms, ...deps]);
}

// Download a URL without leaving the page (the server sets Content-Disposition).
export function downloadUrl(url, name) {
  const a = document.createElement('a');
  a.href = url;
  if (name) a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}
