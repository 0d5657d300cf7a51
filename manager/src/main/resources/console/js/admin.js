// Admin pages: hosts, deployments (with the live deploy log over SSE), audit log, users and quotas,
// invitations.
import { get, post, patch, del, enc } from './api.js';
import {
  h, clear, field, input, select, form, table, when, badge, actionButton, confirmButton, loadInto,
} from './ui.js';

function agentCell(a) {
  if (!a) return h('td', { text: '' });
  return h('td', {},
    h('div', {}, badge(a.connected ? 'connected' : 'disconnected'), ' ', h('span', { text: a.address || '' })),
    h('div', { class: 'fingerprint', title: 'The key this agent presents', text: a.fingerprint || '' }),
    a.refusedFingerprint ? h('div', { class: 'error', text: 'presented ' + a.refusedFingerprint }) : null,
    a.lastError ? h('div', { class: 'muted', text: a.lastError }) : null);
}

export async function hosts(main) {
  const body = h('div');
  clear(main, h('h1', { text: 'Hosts' }), body);
  await loadInto(body, async () => {
    const all = await get('/hosts');
    clear(body, table(['Host', 'Worker', 'Guardian'], all.map((x) => h('tr', { 'data-host': x.name },
      h('th', { scope: 'row', text: x.name }), agentCell(x.worker), agentCell(x.guardian)))));
  });
}

const FINAL = ['running', 'failed', 'stopped'];

export async function deployments(main, { args }) {
  if (args.length) return deployment(main, args[0]);
  const body = h('div');
  const hook = h('p', { class: 'muted', id: 'webhook-url' });
  clear(main, h('h1', { text: 'Deployments' }), hook, body);
  get('/signin/options').then((o) => {
    hook.append('GitHub webhook URL (push events, with the webhook secret): ',
      h('code', { text: o.publicUrl + '/api/v1/webhooks/github' }));
  }).catch(() => {});
  await loadInto(body, async () => {
    const all = await get('/deployments');
    clear(body, table(['Deployment', 'Host', 'State', 'Commit', 'Last deploy'], all.map((d) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: '#/deployments/' + enc(d.name), text: d.name })),
      h('td', { text: d.host || '' }), h('td', {}, badge(d.state)),
      h('td', {}, h('code', { text: (d.commit || '').slice(0, 12) })),
      h('td', { text: d.lastDeploy ? when(d.lastDeploy.endedAt || d.lastDeploy.startedAt) : '' })))));
  });
  return undefined;
}

async function deployment(main, name) {
  const base = '/deployments/' + enc(name);
  const info = h('div');
  const history = h('div');
  const state = h('p', { id: 'live-state', 'aria-live': 'polite' });
  const log = h('pre', { id: 'live-log', class: 'log', tabindex: 0, 'aria-label': 'Live deploy log' });
  const rollbackTo = input('commit', { placeholder: 'commit (default: the last good one)', size: 40 });
  const refresh = async () => {
    const d = await get(base);
    clear(info, h('dl', { class: 'facts' },
      h('dt', { text: 'State' }), h('dd', {}, badge(d.state)),
      h('dt', { text: 'Repository' }), h('dd', { text: d.repo + ' @ ' + d.ref }),
      h('dt', { text: 'Commit' }), h('dd', {}, h('code', { text: d.commit || '' })),
      h('dt', { text: 'Host' }), h('dd', { text: d.host || '' }),
      d.lastError ? [h('dt', { text: 'Last error' }), h('dd', { class: 'error', text: d.lastError })] : null));
    const deploys = await get(base + '/deploys?limit=20');
    clear(history, table(['Started', 'Commit', 'Trigger', 'Result', ''], deploys.map((x) => h('tr', {},
      h('td', { text: when(x.startedAt) }), h('td', {}, h('code', { text: (x.commit || '').slice(0, 12) })),
      h('td', { text: (x.trigger || '') + (x.actor ? ' by ' + x.actor : '') }), h('td', {}, badge(x.result || 'running')),
      h('td', {}, actionButton('Show log', async () => {
        const l = await get(base + '/deploys/' + enc(x.id) + '/log');
        log.textContent = (l.lines || []).map((ln) => (typeof ln === 'string' ? ln : ln.line || JSON.stringify(ln))).join('\n');
      }))))));
  };
  clear(main, h('h1', { text: 'Deployment ' + name }), info,
    h('div', { class: 'buttons' },
      actionButton('Redeploy', async () => { await post(base + '/redeploy'); await refresh(); }, { id: 'redeploy' }),
      h('span', { class: 'inline-field' }, h('label', { for: 'rollback-commit', text: 'Roll back to' }),
        Object.assign(rollbackTo, { id: 'rollback-commit' })),
      actionButton('Roll back', async () => {
        await post(base + '/rollback', rollbackTo.value ? { commit: rollbackTo.value } : {});
        await refresh();
      }),
      actionButton('Stop', async () => { await post(base + '/stop'); await refresh(); }),
      actionButton('Start', async () => { await post(base + '/start'); await refresh(); })),
    h('h2', { text: 'Live log' }), state, log, h('h2', { text: 'History' }), history);
  await loadInto(info, refresh);

  // Same-origin EventSource sends the session cookie; the stream replays the running deploy's lines first.
  const events = new EventSource('/api/v1' + base + '/events');
  events.addEventListener('deploy', () => {
    log.textContent = '';
    state.textContent = 'Deploy started';
    state.dataset.state = 'deploying';
  });
  events.addEventListener('line', (e) => {
    const data = JSON.parse(e.data);
    log.append(document.createTextNode(data.line + '\n'));
    log.scrollTop = log.scrollHeight;
  });
  events.addEventListener('state', (e) => {
    const data = JSON.parse(e.data);
    state.textContent = 'State: ' + data.state + (data.error ? ' (' + data.error + ')' : '');
    state.dataset.state = data.state;
    if (FINAL.includes(data.state)) refresh().catch(() => {});
  });
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) state.textContent = 'Live log disconnected';
  };
  return () => events.close();
}

export async function audit(main) {
  const body = h('div');
  const more = h('div', { class: 'buttons' });
  let last = null;
  let filters = {};
  const load = async (append) => {
    const q = new URLSearchParams();
    if (filters.actor) q.set('actor', filters.actor);
    if (filters.since) q.set('since', new Date(filters.since).toISOString());
    q.set('limit', '100');
    if (append && last) q.set('before', last);
    const entries = await get('/audit?' + q);
    const rows = entries.filter((e) => !filters.action || (e.action || '').startsWith(filters.action)).map((e) => h('tr', {},
      h('td', { text: when(e.time) }), h('td', { text: e.actor }), h('td', { text: e.action || '' }),
      h('td', { text: e.target || '' }), h('td', {}, badge(e.result)), h('td', { text: e.address || '' })));
    last = entries.length ? entries[entries.length - 1].id : last;
    if (append) body.querySelector('tbody').append(...rows);
    else clear(body, table(['Time', 'Actor', 'Action', 'Target', 'Result', 'Address'], rows));
    clear(more, entries.length === 100 ? actionButton('Older entries', () => load(true)) : null);
  };
  const f = form([
    field('Actor', input('actor', { placeholder: 'user name' })),
    field('Action starts with', input('action', { placeholder: 'deployment.' })),
    field('Since', input('since', { type: 'datetime-local' })),
  ], 'Filter', async (data) => {
    filters = { actor: data.get('actor'), action: data.get('action'), since: data.get('since') };
    last = null;
    await load(false);
  }, { class: 'form filters', 'aria-label': 'Audit filters' });
  clear(main, h('h1', { text: 'Audit log' }), f, body, more);
  await loadInto(body, () => load(false));
}

export async function users(main) {
  const body = h('div');
  const refresh = async () => {
    const all = await get('/users');
    clear(body, all.map(userCard));
  };
  const userCard = (u) => {
    const quota = form([
      field('Containers', input('containers', { inputmode: 'numeric', placeholder: 'default' })),
      field('CPUs', input('cpus', { inputmode: 'numeric', placeholder: 'default' })),
      field('Memory', input('memory', { placeholder: 'e.g. 4GiB' })),
      field('Disk', input('disk', { placeholder: 'e.g. 50GiB' })),
    ], 'Save quota', async (data) => {
      const num = (v) => (v === '' || v === null ? null : Number(v));
      const str = (v) => (v === '' || v === null ? null : v);
      await patch('/users/' + enc(u.id), { quota: {
        containers: num(data.get('containers')), cpus: num(data.get('cpus')),
        memory: str(data.get('memory')), disk: str(data.get('disk')) } });
      quota.messageSlot.textContent = 'Saved';
    }, { class: 'form quota', 'aria-label': 'Quota of ' + u.name });
    const token = h('output', { class: 'secret' });
    return h('article', { class: 'card', 'data-user': u.name },
      h('header', {}, h('h3', { text: u.name }), badge(u.role)),
      h('div', { class: 'buttons' },
        actionButton('New API token', async () => {
          const t = await post('/users/' + enc(u.id) + '/tokens', { name: 'console' });
          token.textContent = 'Token (shown once): ' + t.token;
        }),
        confirmButton('Delete', 'Delete user ' + u.name + ' and revoke all their tokens?', async () => {
          await del('/users/' + enc(u.id));
          await refresh();
        })),
      token,
      h('details', {}, h('summary', { text: 'Quota' }), quota));
  };
  const create = form([
    field('Name', input('name', { required: true, autocomplete: 'off' })),
    field('Role', select('role', [['member', 'member'], ['admin', 'admin']])),
  ], 'Create user', async (data, el) => {
    await post('/users', { name: data.get('name'), role: data.get('role') });
    el.reset();
    await refresh();
  }, { 'aria-label': 'Create a user' });
  clear(main, h('h1', { text: 'Users and quotas' }), body, h('h2', { text: 'New user' }), create);
  await loadInto(body, refresh);
}

export async function invites(main) {
  const body = h('div');
  const code = h('output', { class: 'secret', id: 'invite-code' });
  const refresh = async () => {
    const all = await get('/invites');
    clear(body, table(['Role', 'Made', 'Expires', 'Used', ''], all.map((i) => h('tr', {},
      h('td', { text: i.role }), h('td', { text: when(i.createdAt) + (i.createdBy ? ' by ' + i.createdBy : '') }),
      h('td', { text: when(i.expiresAt) }),
      h('td', { text: i.usedAt ? when(i.usedAt) + ' by ' + (i.usedBy || '') : i.revokedAt ? 'revoked' : '' }),
      h('td', {}, !i.usedAt && !i.revokedAt ? confirmButton('Revoke', 'Revoke this invitation?', async () => {
        await del('/invites/' + enc(i.id));
        await refresh();
      }) : '')))));
  };
  const create = form([
    field('Role', select('role', [['member', 'member'], ['admin', 'admin']])),
    field('Valid for (days)', input('days', { inputmode: 'numeric', value: '7' })),
  ], 'Create invitation', async (data) => {
    const days = Number(data.get('days') || 7);
    const made = await post('/invites', { role: data.get('role'), expiresIn: Math.round(days * 86400) });
    code.textContent = 'Code (shown once): ' + made.code;
    await refresh();
  }, { 'aria-label': 'Create an invitation' });
  clear(main, h('h1', { text: 'Invitations' }), create, code, body);
  await loadInto(body, refresh);
}
