// Entry point: session check, hash router, the page frame (navigation, theme toggle, toasts).
import {
  html, render, useEffect, useState, store, setStore, useStore, post, isAdmin,
} from './lib.js';
import { Icon, Toasts, ConfirmHost, applyTheme, currentThemeIsDark, Spinner } from './components.js';
import { LoginPage, PasswordChangePage, bootSession, forgetSignedIn } from './auth.js';
import { LivePage } from './pages/live.js';
import { RecordingsPage } from './pages/recordings.js';
import { TimelinePage } from './pages/timeline.js';
import { StreamsPage } from './pages/streams.js';
import { SettingsPage } from './pages/settings.js';
import { UsersPage } from './pages/users.js';
import { SystemPage } from './pages/system.js';
import { SetupGate } from './pages/setup.js';

const PAGES = [
  { id: 'live', label: 'Live', icon: 'live', component: LivePage },
  { id: 'recordings', label: 'Recordings', icon: 'rec', component: RecordingsPage },
  { id: 'timeline', label: 'Timeline', icon: 'timeline', component: TimelinePage },
  { id: 'streams', label: 'Streams', icon: 'streams', component: StreamsPage },
  { id: 'settings', label: 'Settings', icon: 'settings', component: SettingsPage, admin: true },
  { id: 'users', label: 'Users', icon: 'users', component: UsersPage },
  { id: 'system', label: 'System', icon: 'system', component: SystemPage },
];

export function parseHash() {
  const raw = (location.hash || '').replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  return { page: path.split('/')[0] || 'live', query: new URLSearchParams(qs || '') };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

async function logout() {
  try { await post('/api/auth/logout'); } catch { /* already gone is fine */ }
  sessionStorage.removeItem('lightnvr.returnTo');
  forgetSignedIn();
  setStore({ user: null, sessionExpired: false });
  location.hash = '#/login';
}

function ThemeToggle() {
  const dark = currentThemeIsDark();
  const flip = () => {
    const next = dark ? 'light' : 'dark';
    localStorage.setItem('lightnvr.theme', next);
    applyTheme(next);
  };
  return html`<button type="button" class="btn icon-btn ghost" onClick=${flip}
    aria-label=${dark ? 'Switch to light theme' : 'Switch to dark theme'}
    title=${dark ? 'Light theme' : 'Dark theme'}><${Icon} name=${dark ? 'sun' : 'moon'} /></button>`;
}

function Frame({ route, children }) {
  const user = store.user;
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [route.page]);
  const pages = PAGES.filter((p) => !p.admin || isAdmin(user));
  return html`<div class="frame">
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="topbar">
      <button type="button" class="btn icon-btn ghost nav-toggle" aria-expanded=${open ? 'true' : 'false'}
        aria-controls="sidenav" aria-label="Menu" onClick=${() => setOpen(!open)}><${Icon} name="menu" /></button>
      <a class="brand" href="#/live"><img src="/img/logo.svg" alt="" width="28" height="28" /><span>LightNVR</span></a>
      <div class="topbar-right">
        <${ThemeToggle} />
        <span class="whoami" title=${'Signed in as ' + user.username}>
          <span class="avatar" aria-hidden="true">${user.username.slice(0, 1).toUpperCase()}</span>
          <span class="whoami-text"><span>${user.username}</span><small>${user.role}</small></span>
        </span>
        <button type="button" class="btn icon-btn ghost" onClick=${logout} aria-label="Sign out" title="Sign out">
          <${Icon} name="logout" /></button>
      </div>
    </header>
    <nav id="sidenav" class=${'sidenav' + (open ? ' open' : '')} aria-label="Main">
      <ul>${pages.map((p) => html`<li><a href=${'#/' + p.id} class=${route.page === p.id ? 'active' : ''}
        aria-current=${route.page === p.id ? 'page' : undefined}><${Icon} name=${p.icon} /><span>${p.label}</span></a></li>`)}</ul>
    </nav>
    ${open && html`<div class="nav-scrim" onClick=${() => setOpen(false)}></div>`}
    <main id="main" tabindex="-1" class="content">${children}</main>
  </div>`;
}

function App() {
  useStore();
  const route = useRoute();
  useEffect(() => { bootSession(); }, []);

  if (!store.authChecked) return html`<div class="boot"><${Spinner} label="Connecting…" /></div>`;
  const user = store.user;
  let body;
  if (!user) {
    if (route.page !== 'login') {
      // Remember the page asked for so login can return to it.
      const h = location.hash;
      if (h && h !== '#/' && !h.startsWith('#/login')) sessionStorage.setItem('lightnvr.returnTo', h);
      location.replace('#/login');
    }
    body = html`<${LoginPage} />`;
  } else if (user.mustChange) {
    body = html`<${PasswordChangePage} forced=${true} />`;
  } else if (route.page === 'login') {
    const back = sessionStorage.getItem('lightnvr.returnTo') || '#/live';
    sessionStorage.removeItem('lightnvr.returnTo');
    location.replace(back.startsWith('#/login') ? '#/live' : back);
    body = null;
  } else {
    const page = PAGES.find((p) => p.id === route.page && (!p.admin || isAdmin(user)));
    const Comp = page ? page.component : NotFound;
    body = html`<${Frame} route=${route}><${SetupGate} user=${user} page=${route.page}><${Comp} key=${route.page} query=${route.query} user=${user} /><//><//>`;
  }
  return html`${body}<${Toasts} /><${ConfirmHost} />`;
}

function NotFound() {
  useEffect(() => { document.title = 'Not found · LightNVR'; }, []);
  return html`<section class="page"><h1>Page not found</h1>
    <p>That page does not exist or needs another role. <a href="#/live">Go to Live view</a>.</p></section>`;
}

applyTheme(localStorage.getItem('lightnvr.theme'));
render(html`<${App} />`, document.getElementById('app'));
