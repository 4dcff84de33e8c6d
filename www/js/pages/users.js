// Users: everyone manages their own password and TOTP; admins list, add, re-role, reset,
// re-key and delete users.
import {
  html, useEffect, useState, get, post, put, del, isAdmin, toast, errText, roleName, roleId, ROLES, ROLE_HELP, fmtTime,
} from '../lib.js';
import { Modal, ErrorBox, Icon, Spinner, Field, confirmDialog } from '../components.js';
import { PasswordForm } from '../auth.js';

// qrcode's browser build is a classic script that defines window.QRCode; load it on demand.
let qrLoading = null;
function loadQr() {
  if (window.QRCode) return Promise.resolve(window.QRCode);
  if (!qrLoading) {
    qrLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/node_modules/qrcode/build/qrcode.min.js';
      s.onload = () => (window.QRCode ? resolve(window.QRCode) : reject(new Error('QR library missing')));
      s.onerror = () => { qrLoading = null; reject(new Error('Could not load the QR code library')); };
      document.head.appendChild(s);
    });
  }
  return qrLoading;
}

function TotpCard({ user }) {
  const [status, setStatus] = useState(null);
  const [setup, setSetup] = useState(null);
  const [qr, setQr] = useState(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState(null);
  // Turning two-factor off needs proof beyond the session: a current code or the password.
  const [disabling, setDisabling] = useState(false);
  const [proof, setProof] = useState('');
  const base = `/api/auth/users/${user.id}/totp`;
  const load = async () => {
    try { const s = await get(`${base}/status`); setStatus(!!(s.totp_enabled ?? s.enabled)); } catch (err) { setError(err); }
  };
  useEffect(() => { load(); }, []);
  const begin = async () => {
    setError(null);
    try {
      const r = await post(`${base}/setup`);
      const uri = r.otpauth_uri || r.uri || r.provisioning_uri;
      setSetup({ secret: r.secret, uri });
      try { const Q = await loadQr(); setQr(await Q.toDataURL(uri, { margin: 1, width: 220 })); } catch (err) { setError(err); }
    } catch (err) { setError(err); }
  };
  const verify = async (e) => {
    e.preventDefault();
    try {
      await post(`${base}/verify`, { code: code.trim() });
      toast('Two-factor sign-in is on', 'ok');
      setSetup(null); setQr(null); setCode(''); load();
    } catch (err) { setError(err); }
  };
  const disable = async (e) => {
    e.preventDefault();
    const value = proof.trim();
    if (!value) { setError(new Error('Enter a code from your app or your password')); return; }
    setError(null);
    // Passwords are at least 8 characters, so six digits can only be a code.
    const body = /^[0-9]{6}$/.test(value) ? { code: value } : { password: proof };
    try {
      await post(`${base}/disable`, body);
      toast('Two-factor sign-in is off', 'ok');
      setDisabling(false); setProof(''); load();
    } catch (err) { setError(err); }
  };
  return html`<div class="card">
    <h2>Two-factor sign-in (TOTP)</h2>
    <${ErrorBox} error=${error} />
    ${status === null ? html`<${Spinner} />` : setup ? html`<div class="totp-setup">
        ${qr ? html`<img class="qr" src=${qr} alt="QR code for your authenticator app" width="220" height="220" />` : html`<${Spinner} label="Making QR code…" />`}
        <div class="stack">
          <p>Scan the code with an authenticator app, or type this key:</p>
          <code class="secret">${setup.secret}</code>
          <form class="stack" onSubmit=${verify}>
            <${Field} label="Code from the app">${(id) => html`<input id=${id} inputmode="numeric" autocomplete="one-time-code"
              maxlength="6" value=${code} onInput=${(e) => setCode(e.currentTarget.value)} />`}<//>
            <div class="row"><button type="submit" class="btn primary">Confirm</button>
              <button type="button" class="btn ghost" onClick=${() => { setSetup(null); setQr(null); }}>Cancel</button></div>
          </form>
        </div></div>`
    : status && disabling ? html`<form class="stack" onSubmit=${disable}>
        <p>Signing in will need only your password. Confirm it is you to turn two-factor off.</p>
        <${Field} label="Code from your app, or your password">${(id) => html`<input id=${id} name="totp_proof"
          type="password" autocomplete="current-password" value=${proof}
          onInput=${(e) => setProof(e.currentTarget.value)} />`}<//>
        <div class="row"><button type="submit" class="btn danger">Turn off two-factor</button>
          <button type="button" class="btn ghost" onClick=${() => { setDisabling(false); setProof(''); setError(null); }}>Cancel</button></div>
      </form>`
    : status ? html`<p><span class="badge ok">on</span> Sign-in asks for a code from your app.</p>
        <button type="button" class="btn danger" onClick=${() => setDisabling(true)}>Turn off</button>`
    : html`<p class="muted">Add a one-time code from an authenticator app to your password.</p>
        <button type="button" class="btn primary" onClick=${begin}>Set up</button>`}
  </div>`;
}

// Browsers that skip the TOTP code at sign-in (`remember_device`); the server says which one
// is this browser (its trusted_device cookie is HttpOnly, so the page cannot tell by itself).
function TrustedDevicesCard() {
  const [devices, setDevices] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    try { setDevices((await get('/api/auth/trusted-devices')).trusted_devices || []); } catch (err) { setError(err); }
  };
  useEffect(() => { load(); }, []);
  const forget = async (d) => {
    setError(null);
    try {
      await del(`/api/auth/trusted-devices/${d.id}`);
      toast(d.current ? 'This browser will ask for a code at the next sign-in' : 'Device forgotten', 'ok');
      load();
    } catch (err) { setError(err); }
  };
  return html`<div class="card" data-testid="trusted-devices">
    <h2>Trusted devices</h2>
    <${ErrorBox} error=${error} />
    ${devices === null ? (!error && html`<${Spinner} />`)
    : devices.length === 0 ? html`<p class="muted">No device skips the two-factor code. Tick “Remember this device” when you sign in with a code.</p>`
    : html`<ul class="plain-list">${devices.map((d) => html`<li class="row" data-device=${d.id}>
        <span class="grow"><strong>${d.current ? 'This browser' : 'Another browser'}</strong>
          <small class="muted block">${[d.user_agent, d.ip_address].filter(Boolean).join(' · ')}</small>
          <small class="muted block">Trusted until ${fmtTime(d.expires_at)}</small></span>
        <button type="button" class="btn ghost" onClick=${() => forget(d)}
          aria-label=${`Forget ${d.current ? 'this browser' : 'device ' + d.id}`}>Forget</button></li>`)}</ul>`}
  </div>`;
}

function AddUser({ onClose, onDone }) {
  const [f, setF] = useState({ username: '', password: '', role: 1, email: '' });
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const errs = {};
    if (!/^[A-Za-z0-9._@-]{1,32}$/.test(f.username)) errs.username = '1–32 letters, digits, . _ @ -';
    if (f.password.length < 8) errs.password = 'At least 8 characters';
    setErrors(errs);
    if (Object.keys(errs).length) return;
    try {
      await post('/api/auth/users', { ...f, role: Number(f.role), is_active: true });
      toast(`User ${f.username} added`, 'ok');
      onDone();
    } catch (err) {
      if (err.field) setErrors({ [err.field]: err.message });
      setError(err.status === 409 ? new Error(`User ${f.username} already exists`) : err);
    }
  };
  const inp = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  return html`<${Modal} title="Add user" onClose=${onClose}>
    <form class="stack" onSubmit=${submit} novalidate>
      <${ErrorBox} error=${error} />
      <${Field} label="Username" error=${errors.username}>${(id, d) => html`<input id=${id} name="username" autocomplete="off" aria-describedby=${d} value=${f.username} onInput=${inp('username')} />`}<//>
      <${Field} label="Password" error=${errors.password} hint="At least 8 characters">${(id, d) => html`<input id=${id} name="password" type="password" autocomplete="new-password" aria-describedby=${d} value=${f.password} onInput=${inp('password')} />`}<//>
      <${Field} label="Email (optional)">${(id) => html`<input id=${id} name="email" type="email" value=${f.email} onInput=${inp('email')} />`}<//>
      <${Field} label="Role" hint=${ROLE_HELP[ROLES[Number(f.role)]]}>${(id, d) => html`<select id=${id} name="role" aria-describedby=${d} value=${String(f.role)} onChange=${inp('role')}>
        ${ROLES.map((r, i) => html`<option value=${String(i)}>${r}</option>`)}</select>`}<//>
      <div class="form-actions"><button type="button" class="btn" onClick=${onClose}>Cancel</button>
        <button type="submit" class="btn primary">Add user</button></div>
    </form>
  <//>`;
}

// LightNVR's per-user rules: camera tags (the streams the user sees), the networks they may
// sign in from (stored normalised: a bare address becomes /32 or /128) and the password lock.
function AccessRules({ user, onClose, onDone }) {
  const [tags, setTags] = useState(user.allowed_tags || '');
  const [cidrs, setCidrs] = useState(user.allowed_login_cidrs || '');
  const [locked, setLocked] = useState(!!user.password_change_locked);
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await put(`/api/auth/users/${user.id}`, {
        allowed_tags: tags.trim() || null, allowed_login_cidrs: cidrs.trim() || null });
      if (locked !== !!user.password_change_locked) {
        await put(`/api/auth/users/${user.id}/password-lock`, { locked });
      }
      toast(`Access rules of ${user.username} saved`, 'ok');
      onDone();
    } catch (err) { setError(err); }
  };
  return html`<${Modal} title=${`Access rules of ${user.username}`} onClose=${onClose}>
    <form class="stack" onSubmit=${save} novalidate>
      <${ErrorBox} error=${error} />
      <${Field} label="Camera tags" hint="Comma-separated; empty: every camera. Only cameras carrying one of these tags are shown.">${(id, d) => html`<input id=${id}
        name="allowed_tags" aria-describedby=${d} value=${tags} onInput=${(e) => setTags(e.currentTarget.value)} />`}<//>
      <${Field} label="Sign in only from" hint="Networks or addresses, one per line or comma-separated (192.168.1.0/24, 10.0.0.5); empty: anywhere.">${(id, d) => html`<textarea id=${id}
        name="allowed_login_cidrs" rows="3" aria-describedby=${d} value=${cidrs} onInput=${(e) => setCidrs(e.currentTarget.value)}></textarea>`}<//>
      <label class="row"><input type="checkbox" name="password_change_locked" checked=${locked}
        onChange=${(e) => setLocked(e.currentTarget.checked)} /> Lock password changes</label>
      <div class="form-actions"><button type="button" class="btn" onClick=${onClose}>Cancel</button>
        <button type="submit" class="btn primary">Save</button></div>
    </form>
  <//>`;
}

function UserAdmin({ me }) {
  const [users, setUsers] = useState(null);
  const [error, setError] = useState(null);
  const [adding, setAdding] = useState(false);
  const [resetting, setResetting] = useState(null);
  const [apiKey, setApiKey] = useState(null);
  const [rules, setRules] = useState(null);
  const load = async () => {
    try { const r = await get('/api/auth/users'); setUsers(Array.isArray(r) ? r : r.users || []); setError(null); } catch (err) { setError(err); }
  };
  useEffect(() => { load(); }, []);
  const setRole = async (u, role) => {
    try { await put(`/api/auth/users/${u.id}`, { role: Number(role) }); toast(`${u.username} is now ${roleName(Number(role))}`, 'ok'); load(); } catch (err) { toast(errText(err), 'error'); load(); }
  };
  const regen = async (u) => {
    if (!await confirmDialog({ title: `New API key for ${u.username}?`, message: 'The old key stops working at once.', confirm: 'Generate' })) return;
    try { const r = await post(`/api/auth/users/${u.id}/api-key`); setApiKey({ user: u.username, key: r.api_key || r.key }); } catch (err) { toast(errText(err), 'error'); }
  };
  const remove = async (u) => {
    if (!await confirmDialog({ title: `Delete ${u.username}?`, message: 'Their sessions and API key stop working.', confirm: 'Delete', danger: true })) return;
    try { await del(`/api/auth/users/${u.id}`); toast(`${u.username} deleted`, 'ok'); load(); } catch (err) { toast(errText(err), 'error'); }
  };
  const copy = async () => { try { await navigator.clipboard.writeText(apiKey.key); toast('Copied', 'ok'); } catch { toast('Select the key and copy it', 'info'); } };
  return html`<div class="card">
    <div class="card-head"><h2>All users</h2>
      <button type="button" class="btn primary" onClick=${() => setAdding(true)}><${Icon} name="plus" /> Add user</button></div>
    <${ErrorBox} error=${error} onRetry=${load} />
    ${users === null && !error ? html`<${Spinner} />` : users && html`<div class="table-wrap" tabindex="0" role="region" aria-label="Users table"><table class="table cards-sm">
      <caption class="sr-only">Users</caption>
      <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col" class="hide-sm">Last sign-in</th><th scope="col" class="hide-sm">2FA</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${users.map((u) => html`<tr key=${u.id} data-user=${u.username}>
        <td><strong>${u.username}</strong>${u.email && html`<div class="small muted">${u.email}</div>`}${u.is_active === false && html` <span class="chip warn">inactive</span>`}
          ${u.allowed_tags && html` <span class="chip" title="Camera tags">${u.allowed_tags}</span>`}${u.password_change_locked && html` <span class="chip warn">password locked</span>`}</td>
        <td><label class="sr-only" for=${'role-' + u.id}>Role of ${u.username}</label>
          <select id=${'role-' + u.id} value=${String(roleId(u.role_name ?? u.role))} disabled=${u.id === me.id}
            onChange=${(e) => setRole(u, e.currentTarget.value)}>${ROLES.map((r, i) => html`<option value=${String(i)}>${r}</option>`)}</select></td>
        <td class="hide-sm nowrap">${u.last_login ? fmtTime(u.last_login) : 'never'}</td>
        <td class="hide-sm">${u.totp_enabled ? 'on' : 'off'}</td>
        <td class="actions nowrap">
          <button type="button" class="btn small" onClick=${() => setResetting(u)}>Reset password</button>
          <button type="button" class="btn small" onClick=${() => regen(u)}>API key</button>
          <button type="button" class="btn small" onClick=${() => setRules(u)}>Access</button>
          ${u.id !== me.id && html`<button type="button" class="btn small danger ghost" onClick=${() => remove(u)} aria-label=${`Delete ${u.username}`}><${Icon} name="trash" /></button>`}
        </td></tr>`)}</tbody></table></div>`}
    <details class="fold role-guide" open><summary>What each role may do</summary>
      <dl class="meta">${ROLES.map((r) => html`<div key=${r}><dt>${r}</dt><dd>${ROLE_HELP[r]}</dd></div>`)}</dl></details>
    ${rules && html`<${AccessRules} user=${rules} onClose=${() => setRules(null)} onDone=${() => { setRules(null); load(); }} />`}
    ${adding && html`<${AddUser} onClose=${() => setAdding(false)} onDone=${() => { setAdding(false); load(); }} />`}
    ${resetting && html`<${Modal} title=${`Reset password of ${resetting.username}`} onClose=${() => setResetting(null)}>
      <${PasswordForm} userId=${resetting.id} requireCurrent=${resetting.id === me.id} submitLabel="Set password"
        onDone=${() => { toast('Password set', 'ok'); setResetting(null); }} /><//>`}
    ${apiKey && html`<${Modal} title=${`API key of ${apiKey.user}`} onClose=${() => setApiKey(null)}
      footer=${html`<button type="button" class="btn" onClick=${copy}>Copy</button><button type="button" class="btn primary" onClick=${() => setApiKey(null)}>Done</button>`}>
      <p>Store it now — it is not shown again.</p><code class="secret" data-testid="api-key">${apiKey.key}</code><//>`}
  </div>`;
}

export function UsersPage({ user }) {
  useEffect(() => { document.title = 'Users · LightNVR'; }, []);
  return html`<section class="page">
    <div class="page-head"><h1>${isAdmin(user) ? 'Users' : 'My account'}</h1></div>
    <div class="cards-2">
      <div class="card"><h2>My password</h2>
        <p class="muted">Signed in as <strong>${user.username}</strong> (${user.role}).</p>
        <${PasswordForm} userId=${user.id} onDone=${() => toast('Password changed', 'ok')} /></div>
      <${TotpCard} user=${user} />
      <${TrustedDevicesCard} />
    </div>
    ${isAdmin(user) && html`<${UserAdmin} me=${user} />`}
  </section>`;
}
