// The console: one page, hash routes (#/containers …), views built from the REST API.
import { api, get, setCsrf, whenUnauthorized } from './api.js';
import { h, clear, field, input, form } from './ui.js';
import * as member from './member.js';
import * as admin from './admin.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let session = null;
let cleanup = null;

const memberPages = [
  ['containers', 'My containers', member.containers],
  ['keys', 'My SSH keys', member.keys],
  ['usage', 'My usage', member.usage],
];
const adminPages = [
  ['hosts', 'Hosts', admin.hosts],
  ['deployments', 'Deployments', admin.deployments],
  // Loaded when opened: the charts library stays out of every other page's load.
  ['stats', 'Stats', async (main, ctx) => (await import('./stats.js')).page(main, ctx)],
  ['audit', 'Audit log', admin.audit],
  ['users', 'Users & quotas', admin.users],
  ['invites', 'Invitations', admin.invites],
];

function pages() {
  return session && session.user.role === 'admin' ? memberPages.concat(adminPages) : memberPages;
}

function renderNav() {
  const current = location.hash.replace(/^#\//, '').split('/')[0];
  clear(nav, h('ul', {}, pages().map(([id, title]) =>
    h('li', {}, h('a', { href: '#/' + id, text: title, 'aria-current': id === current ? 'page' : null })))));
  const out = h('button', { type: 'button', id: 'sign-out', text: 'Sign out' });
  out.addEventListener('click', signOut);
  clear(who, h('span', { id: 'user-name', text: session.user.name + ' (' + session.user.role + ')' }), out);
}

async function signOut() {
  try {
    await api('DELETE', '/session');
  } catch (e) {
    // Already ended server-side: the page still goes back to sign-in.
  }
  session = null;
  setCsrf(null);
  if (location.hash !== '#/signin') {
    location.hash = '#/signin'; // its hashchange renders the sign-in page
    return;
  }
  route();
}

async function signInPage() {
  clear(nav);
  clear(who);
  let options = { github: false, token: true };
  try {
    options = await get('/signin/options');
  } catch (e) {
    // The token form is always offered.
  }
  const token = input('token', { type: 'password', autocomplete: 'off', required: true });
  const tokenForm = form([field('API token', token, 'For admins without GitHub, and for scripts and tests')],
    'Sign in with token', async (data) => {
      const s = await api('POST', '/session', { token: data.get('token') });
      start(s);
    }, { id: 'token-sign-in', 'aria-label': 'Sign in with an API token' });
  clear(main, h('section', { class: 'narrow' },
    h('h1', { text: 'Sign in' }),
    options.github ? h('p', {}, h('a', { class: 'button primary', id: 'github-sign-in', href: '/auth/github',
      text: 'Sign in with GitHub' })) : null,
    tokenForm));
  (options.github ? document.getElementById('github-sign-in') : token).focus();
}

function start(s) {
  session = s;
  setCsrf(s.csrfToken);
  if (!location.hash || location.hash === '#/signin' || location.hash === '#/') {
    location.hash = '#/containers'; // its hashchange renders the page
    return;
  }
  route();
}

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  if (!session) {
    signInPage();
    return;
  }
  renderNav();
  const [id, ...rest] = location.hash.replace(/^#\//, '').split('/');
  const page = pages().find(([pid]) => pid === id) || pages()[0];
  document.title = page[1] + ' - hostdeploy';
  clear(main);
  const result = await page[2](main, { session, args: rest.map(decodeURIComponent) });
  if (typeof result === 'function') cleanup = result;
  main.focus({ preventScroll: true });
  markReady();
}

/** The first time a view is usable: read by the benchmark as time to interactive. */
function markReady() {
  if (!document.body.dataset.ready) document.body.dataset.readyAt = performance.now().toFixed(1);
  document.body.dataset.ready = 'true';
}

whenUnauthorized(() => {
  session = null;
  setCsrf(null);
  route();
});
window.addEventListener('hashchange', route);

(async () => {
  try {
    start(await get('/session'));
  } catch (e) {
    session = null;
    await signInPage();
    markReady();
  }
})();
