// Sign-in (password, then TOTP when enabled), session check and the password-change form.
import { html, useEffect, useRef, useState, store, setStore, get, post, put, errText, roleName, toast } from './lib.js';
import { ErrorBox, Field } from './components.js';

// The server tells us who we are; any of the common shapes is accepted.
export function normaliseUser(v) {
  if (!v || v.authenticated === false) return null;
  const u = v.user && typeof v.user === 'object' ? { ...v, ...v.user } : v;
  return {
    id: u.id ?? u.user_id ?? null,
    username: u.username || 'user',
    role: roleName(u.role_id ?? u.role),
    mustChange: !!(u.password_change_required ?? u.must_change_password ?? u.force_password_change),
    totp: !!u.totp_enabled,
    authEnabled: u.auth_enabled !== false,
  };
}

const SIGNED_IN = 'lightnvr.signedIn';

// First load: ask who we are only when this browser has signed in before (or sign-in is off),
// so a fresh visitor sees the login form without a 401 in the console.
export async function bootSession() {
  if (!localStorage.getItem(SIGNED_IN)) {
    try {
      const c = await get('/api/auth/login/config');
      if (c && c.auth_enabled !== false) { setStore({ user: null, authChecked: true }); return; }
    } catch { /* fall through: verify tells the rest */ }
  }
  await refreshSession();
}

export function forgetSignedIn() { localStorage.removeItem(SIGNED_IN); }

export async function refreshSession(extra = {}) {
  try {
    const v = await get('/api/auth/verify');
    const user = normaliseUser(v);
    if (user && extra.mustChange) user.mustChange = true;
    if (user) localStorage.setItem(SIGNED_IN, '1');
    setStore({ user, authChecked: true, sessionError: null });
  } catch (err) {
    if (err.status === 401) forgetSignedIn();
    setStore({
      user: null, authChecked: true,
      sessionError: err.status === 401 || err.status === 403 ? null : err,
    });
  }
}

function Card({ title, subtitle, children }) {
  return html`<main class="auth-wrap" id="main">
    <div class="auth-card">
      <div class="auth-brand"><img src="/img/logo.svg" alt="" width="40" height="40" />
        <span>LightNVR</span></div>
      <h1>${title}</h1>
      ${subtitle && html`<p class="muted">${subtitle}</p>`}
      ${children}
    </div>
  </main>`;
}

export function LoginPage() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [totpToken, setTotpToken] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(store.sessionError || null);
  // The server's login rules: forced MFA (the code goes with the password) and trusted devices.
  const [cfg, setCfg] = useState({});
  const [remember, setRemember] = useState(false);
  const codeRef = useRef(null);
  useEffect(() => { document.title = 'Sign in · LightNVR'; }, []);
  useEffect(() => { get('/api/auth/login/config').then((c) => c && setCfg(c), () => {}); }, []);
  useEffect(() => { if (totpToken && codeRef.current) codeRef.current.focus(); }, [totpToken]);

  // Remembering a browser only skips a TOTP code, so the box appears where a code is asked:
  // the second step, or the password form when the server wants the code with the password.
  const forced = !!cfg.force_mfa_on_login && !totpToken;
  const rememberShown = !!cfg.remember_device_enabled && (!!totpToken || forced);

  const finish = async (res) => {
    const mustChange = !!(res && (res.password_change_required || res.must_change_password));
    setStore({ sessionExpired: false });
    await refreshSession({ mustChange });
  };

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (!totpToken) {
        const body = { username, password };
        if (cfg.force_mfa_on_login && code.trim()) body.totp_code = code.trim();
        if (rememberShown) body.remember_device = remember;
        const res = await post('/api/auth/login', body);
        if (res && (res.totp_required || res.requires_totp)) {
          setTotpToken(res.totp_token || res.token || '');
        } else {
          await finish(res);
        }
      } else {
        const res = await post('/api/auth/login/totp', {
          totp_token: totpToken, code: code.trim(), remember_device: rememberShown && remember });
        await finish(res);
      }
    } catch (err) {
      setError(err.status === 401 && !totpToken ? new Error('Wrong username or password') : err);
    } finally {
      setBusy(false);
    }
  };

  const days = cfg.trusted_device_days;
  const rememberBox = rememberShown && html`<label class="row"><input type="checkbox"
      name="remember_device" checked=${remember} onChange=${(e) => setRemember(e.currentTarget.checked)} />
    Remember this device for ${days} ${days === 1 ? 'day' : 'days'}</label>`;
  return html`<${Card} title=${totpToken ? 'Two-factor code' : 'Sign in'}
      subtitle=${totpToken ? 'Enter the 6-digit code from your authenticator app.' : (store.sessionExpired ? 'Your session expired. Sign in to continue where you were.' : 'Network video recorder')}>
    <form onSubmit=${submit} class="stack" novalidate>
      <${ErrorBox} error=${error} />
      ${!totpToken ? html`
        <${Field} label="Username">${(id) => html`<input id=${id} name="username" autocomplete="username"
          required value=${username} onInput=${(e) => setUsername(e.currentTarget.value)} autofocus />`}<//>
        <${Field} label="Password">${(id) => html`<input id=${id} name="password" type="password"
          autocomplete="current-password" required value=${password}
          onInput=${(e) => setPassword(e.currentTarget.value)} />`}<//>
        ${forced && html`<${Field} label="Authentication code" hint="If your account uses two-factor sign-in: the 6-digit code from your app">${(id, d) => html`<input
          id=${id} name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6"
          aria-describedby=${d} value=${code} onInput=${(e) => setCode(e.currentTarget.value)} />`}<//>`}`
      : html`<${Field} label="Authentication code">${(id) => html`<input id=${id} name="code" ref=${codeRef}
          inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required
          value=${code} onInput=${(e) => setCode(e.currentTarget.value)} />`}<//>`}
      ${rememberBox}
      <button type="submit" class="btn primary block" disabled=${busy}>
        ${busy ? 'Signing in…' : totpToken ? 'Verify' : 'Sign in'}</button>
      ${totpToken && html`<button type="button" class="btn ghost block" onClick=${() => { setTotpToken(null); setCode(''); }}>Back</button>`}
    </form>
  <//>`;
}

// Password change: forced on first login of the generated admin, and from the account page.
export function PasswordForm({ userId, onDone, requireCurrent = true, submitLabel = 'Change password' }) {
  const [cur, setCur] = useState('');
  const [pw1, setPw1] = useState('');
  const [pw2, setPw2] = useState('');
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const errs = {};
    if (requireCurrent && !cur) errs.cur = 'Enter your current password';
    if (pw1.length < 8) errs.pw1 = 'Use at least 8 characters';
    if (pw1 && requireCurrent && pw1 === cur) errs.pw1 = 'Choose a password different from the current one';
    if (pw2 !== pw1) errs.pw2 = 'The two passwords differ';
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    setError(null);
    try {
      const body = { new_password: pw1 };
      if (requireCurrent) { body.old_password = cur; }
      await put(`/api/auth/users/${userId}/password`, body);
      setCur(''); setPw1(''); setPw2('');
      onDone && onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="stack" onSubmit=${submit} novalidate>
    <${ErrorBox} error=${error} />
    ${requireCurrent && html`<${Field} label="Current password" error=${errors.cur}>${(id, d) => html`<input id=${id}
      type="password" name="current_password" autocomplete="current-password" value=${cur} aria-describedby=${d}
      aria-invalid=${errors.cur ? 'true' : undefined} onInput=${(e) => setCur(e.currentTarget.value)} />`}<//>`}
    <${Field} label="New password" hint="At least 8 characters" error=${errors.pw1}>${(id, d) => html`<input id=${id}
      type="password" name="new_password" autocomplete="new-password" value=${pw1} aria-describedby=${d}
      aria-invalid=${errors.pw1 ? 'true' : undefined} onInput=${(e) => setPw1(e.currentTarget.value)} />`}<//>
    <${Field} label="Repeat new password" error=${errors.pw2}>${(id, d) => html`<input id=${id}
      type="password" name="confirm_password" autocomplete="new-password" value=${pw2} aria-describedby=${d}
      aria-invalid=${errors.pw2 ? 'true' : undefined} onInput=${(e) => setPw2(e.currentTarget.value)} />`}<//>
    <button type="submit" class="btn primary" disabled=${busy}>${busy ? 'Saving…' : submitLabel}</button>
  </form>`;
}

export function PasswordChangePage() {
  useEffect(() => { document.title = 'Choose a new password · LightNVR'; }, []);
  const user = store.user;
  const done = async () => {
    toast('Password changed', 'ok');
    await refreshSession();
    // A server that keeps no such flag must not trap the user on this page.
    if (store.user && store.user.mustChange) setStore({ user: { ...store.user, mustChange: false } });
  };
  const signOut = async () => {
    try { await post('/api/auth/logout'); } catch { /* ignore */ }
    forgetSignedIn();
    setStore({ user: null });
    location.hash = '#/login';
  };
  return html`<${Card} title="Choose a new password"
      subtitle=${`Signed in as ${user.username} with a generated password. Set your own before continuing.`}>
    <${PasswordForm} userId=${user.id} onDone=${done} submitLabel="Save and continue" />
    <button type="button" class="btn ghost block" onClick=${signOut}>Sign out</button>
  <//>`;
}

export { errText };
