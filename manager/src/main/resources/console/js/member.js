// Member pages: my containers (with snapshots and backups), my SSH keys, my usage. Paths are the
// containers API's: /containers…, /me/keys, /me/usage.
import { get, post, put, del, enc } from './api.js';
import {
  h, clear, field, input, select, form, table, when, bytes, badge, actionButton, confirmButton, loadInto, errorSlot, run,
} from './ui.js';

const SIZES = [['small', 'small'], ['medium', 'medium'], ['large', 'large']];

function lines(text) {
  return String(text || '').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

export async function containers(main) {
  const list = h('div', { id: 'container-list' });
  const name = input('name', { required: true, autocomplete: 'off', placeholder: 'dev' });
  const image = input('image', { placeholder: 'the default image' });
  const size = select('size', SIZES);
  const keys = h('textarea', { name: 'sshKeys', rows: 3, placeholder: 'ssh-ed25519 AAAA… (one per line)' });
  const createForm = form([
    field('Name', name),
    field('Image', image, 'Leave empty for the default image'),
    field('Size', size),
    field('SSH public keys', keys, 'Leave empty to use My SSH keys'),
  ], 'Create container', async (data, el) => {
    const body = { name: data.get('name'), size: data.get('size') };
    if (data.get('image')) body.image = data.get('image');
    const chosen = lines(data.get('sshKeys'));
    if (chosen.length) body.sshKeys = chosen;
    await post('/containers', body);
    el.reset();
    await refresh();
  }, { id: 'create-container', 'aria-label': 'Create a container' });

  // While a container is on its way somewhere (creating, stopping, deleting…), the list refreshes itself.
  const SETTLED = ['running', 'stopped', 'failed', 'error'];
  let timer = null;
  // A failed read (the Manager restarting, a network hiccup) is tried again: the poll only ends when all settle.
  let left = false;
  const poll = () => { if (!left) timer = setTimeout(() => refresh().catch(poll), 2000); };
  async function refresh() {
    clearTimeout(timer);
    const all = await get('/containers');
    clear(list, all.length ? all.map(card) : h('p', { class: 'muted', text: 'No containers yet.' }));
    if (all.some((c) => !SETTLED.includes(String(c.state).toLowerCase()))) poll();
  }

  function card(c) {
    const ssh = c.ssh && c.ssh.command;
    const copySlot = errorSlot();
    const copy = h('button', { type: 'button', class: 'copy', text: 'Copy', 'aria-label': 'Copy the SSH command of ' + c.name });
    copy.addEventListener('click', () => run(copy, copySlot, async () => {
      await navigator.clipboard.writeText(ssh);
      copySlot.textContent = 'Copied';
    }));
    const details = h('details', { class: 'more' }, h('summary', { text: 'Snapshots and backups' }));
    details.addEventListener('toggle', () => {
      if (details.open && !details.dataset.loaded) {
        details.dataset.loaded = 'true';
        details.append(snapshots(c, refresh), backups(c, refresh));
      }
    });
    return h('article', { class: 'card container', 'data-name': c.name, 'aria-label': 'Container ' + c.name },
      h('header', {}, h('h3', { text: c.name }), badge(c.state)),
      h('dl', { class: 'facts' },
        h('dt', { text: 'Image' }), h('dd', { text: c.image || '' }),
        h('dt', { text: 'Size' }), h('dd', { text: c.size || '' }),
        h('dt', { text: 'Host' }), h('dd', { text: c.host || '' }),
        c.owner ? [h('dt', { text: 'Owner' }), h('dd', { text: c.owner })] : null,
        h('dt', { text: 'Created' }), h('dd', { text: when(c.createdAt) }),
        c.lastError ? [h('dt', { text: 'Last error' }), h('dd', { class: 'error', text: c.lastError })] : null,
        // An offboarded member's container, as an admin sees it: deleted after the grace period unless kept.
        c.deleteAfter ? [h('dt', { text: 'Deleted after' }), h('dd', { text: c.kept ? 'kept' : when(c.deleteAfter) })] : null),
      ssh ? h('p', { class: 'ssh' }, h('code', { class: 'ssh-command', text: ssh }), copy, copySlot) : null,
      h('div', { class: 'buttons' },
        ['start', 'stop', 'restart'].map((a) => actionButton(a[0].toUpperCase() + a.slice(1), async () => {
          await post('/containers/' + enc(c.id) + '/' + a);
          await refresh();
        })),
        c.deleteAfter && !c.kept ? actionButton('Keep', async () => {
          await post('/containers/' + enc(c.id) + '/keep');
          await refresh();
        }) : null,
        confirmButton('Delete', 'Delete ' + c.name + ' and everything in it?', async () => {
          await del('/containers/' + enc(c.id));
          await refresh();
        })),
      details);
  }

  clear(main, h('h1', { text: 'My containers' }), list, h('h2', { text: 'New container' }), createForm);
  await loadInto(list, refresh);
  return () => { left = true; clearTimeout(timer); };
}

function snapshots(c, refreshContainers) {
  const base = '/containers/' + enc(c.id) + '/snapshots';
  const body = h('div');
  const refresh = async () => {
    const all = (await get(base)).snapshots || [];
    clear(body, all.length ? table(['Snapshot', 'Taken', 'Expires', ''], all.map((s) => h('tr', { 'data-snapshot': s.name },
      h('td', { text: s.name }), h('td', { text: when(s.createdAt) }), h('td', { text: s.expiresAt ? when(s.expiresAt) : '' }),
      h('td', {}, actionButton('Restore', async () => {
        await post(base + '/' + enc(s.name) + '/restore');
        await refreshContainers();
      }),
        confirmButton('Delete', 'Delete snapshot ' + s.name + '?', async () => {
          await del(base + '/' + enc(s.name));
          await refresh();
        }))))) : h('p', { class: 'muted', text: 'No snapshots yet.' }));
  };
  const create = form([field('Snapshot name', input('name', { required: true, placeholder: 'before-upgrade' }))],
    'Take snapshot', async (data, el) => {
      await post(base, { name: data.get('name') });
      el.reset();
      await refresh();
    }, { class: 'form take-snapshot', 'aria-label': 'Take a snapshot of ' + c.name });
  const schedule = form([
    field('Schedule', input('schedule', { placeholder: '@daily' }), 'cron or @hourly/@daily/@weekly; empty: none'),
    field('Keep for', input('expiry', { placeholder: '7d' })),
  ], 'Save schedule', async (data) => {
    await put(base + '/schedule', { schedule: data.get('schedule'), expiry: data.get('expiry') });
    schedule.messageSlot.textContent = 'Saved';
  }, { class: 'form snapshot-schedule', 'aria-label': 'Snapshot schedule of ' + c.name });
  loadInto(body, refresh);
  return h('section', { 'aria-label': 'Snapshots of ' + c.name }, h('h4', { text: 'Snapshots' }), body, create, schedule);
}

function backups(c, refreshContainers) {
  const base = '/containers/' + enc(c.id) + '/backups';
  const body = h('div');
  const refresh = async () => {
    const all = (await get(base)).backups || [];
    clear(body, all.length ? table(['Backup', 'Made', 'Size', ''], all.map((b) => {
      const asName = input('asName', { placeholder: 'new name (optional)',
        'aria-label': 'Restore backup ' + b.backup + ' as a new container named' });
      return h('tr', { 'data-backup': b.backup },
        h('td', { text: b.backup }), h('td', { text: when(b.createdAt) }), h('td', { text: bytes(b.size) }),
        // Empty name: restored in place; a name: a new container of the same member (counted in the quota).
        h('td', {}, asName, actionButton('Restore', async () => {
          await post(base + '/' + enc(b.backup) + '/restore', asName.value ? { asName: asName.value } : {});
          await refreshContainers();
        }), confirmButton('Delete', 'Delete this backup?', async () => {
          await del(base + '/' + enc(b.backup));
          await refresh();
        })));
    })) : h('p', { class: 'muted', text: 'No backups yet.' }));
  };
  // A backup runs as a job (202): the list is read again until the new one shows up, for two minutes at most.
  const status = h('span', { class: 'muted', 'aria-live': 'polite' });
  const create = h('div', { class: 'buttons' }, actionButton('Back up now', async () => {
    const before = ((await get(base)).backups || []).length;
    await post(base);
    status.textContent = 'Backing up…';
    const until = Date.now() + 120000;
    const poll = async () => {
      await refresh();
      if (body.querySelectorAll('tr[data-backup]').length > before) status.textContent = 'Backup written';
      else if (Date.now() < until) setTimeout(() => poll().catch(() => {}), 2000);
      else status.textContent = 'The backup is still running; see the container\'s operations';
    };
    await poll();
  }), status);
  loadInto(body, refresh);
  return h('section', { 'aria-label': 'Backups of ' + c.name }, h('h4', { text: 'Backups' }), body, create);
}

export async function keys(main) {
  const area = h('textarea', { name: 'keys', rows: 6, class: 'wide', placeholder: 'ssh-ed25519 AAAA… me@laptop' });
  const f = form([field('SSH public keys, one per line', area)], 'Save keys', async (data) => {
    const saved = await put('/me/keys', { keys: lines(data.get('keys')) });
    area.value = (saved.keys || []).join('\n');
    f.messageSlot.textContent = 'Saved';
  }, { id: 'my-keys' });
  clear(main, h('h1', { text: 'My SSH keys' }),
    h('p', { text: 'New containers get these keys unless you name others.' }), f);
  try {
    const current = await get('/me/keys');
    area.value = (current.keys || []).join('\n');
  } catch (e) {
    f.messageSlot.textContent = e.message;
  }
}

export async function usage(main) {
  const body = h('div');
  clear(main, h('h1', { text: 'My usage' }), body);
  await loadInto(body, async () => {
    const u = await get('/me/usage');
    const row = (label, use, fmt) => {
      const limit = use && use.limit !== null && use.limit !== undefined ? use.limit : null;
      return h('tr', {}, h('th', { scope: 'row', text: label }), h('td', { text: fmt(use ? use.used : 0) }),
        h('td', { text: limit === null ? 'no limit' : fmt(limit) }),
        h('td', {}, limit ? h('meter', { min: 0, max: limit, value: use.used, 'aria-label': label + ' used of quota' }) : ''));
    };
    const n = (x) => String(x);
    clear(body, h('div', { class: 'table-wrap' }, h('table', { id: 'usage' },
      h('thead', {}, h('tr', {}, ['', 'In use', 'Quota', ''].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, row('Containers', u.containers, n), row('CPUs', u.cpus, n), row('Memory', u.memory, bytes),
        row('Disk', u.disk, bytes)))));
  });
}
