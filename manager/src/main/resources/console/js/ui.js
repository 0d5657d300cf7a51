// Small DOM helpers: elements are built with textContent only (never innerHTML), so API data cannot
// inject markup, and every control gets a label.
import { ApiError } from './api.js';

let nextId = 0;

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function uid(prefix) {
  nextId += 1;
  return (prefix || 'f') + '-' + nextId;
}

/** A labelled control: returns the wrapper; the control is wrapper.control. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid(control.name || 'field');
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id, text: label }), control,
    hint ? h('small', { class: 'hint', text: hint }) : null);
  wrap.control = control;
  return wrap;
}

export function input(name, props) {
  return h('input', Object.assign({ name, type: 'text' }, props || {}));
}

export function select(name, options, props) {
  const el = h('select', Object.assign({ name }, props || {}));
  for (const o of options) {
    const [value, text] = Array.isArray(o) ? o : [o, o];
    el.append(h('option', { value, text }));
  }
  return el;
}

/** The place an action's error appears: beside the control that caused it. */
export function errorSlot() {
  return h('span', { class: 'error', role: 'alert', 'aria-live': 'assertive' });
}

/**
 * Runs an action for a button: disables it meanwhile, and shows an API error's message in the slot
 * beside it (a field named by the API gets the message too, when the form has that field).
 */
export async function run(button, slot, action, form) {
  if (slot) slot.textContent = '';
  if (form) form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (e) {
    const message = e instanceof ApiError ? e.message : String(e.message || e);
    if (slot) slot.textContent = message;
    if (form && e instanceof ApiError && e.details && e.details.field) {
      const bad = form.querySelector('[name="' + CSS.escape(e.details.field) + '"]');
      if (bad) {
        bad.setAttribute('aria-invalid', 'true');
        if (slot) slot.id = slot.id || uid('err');
        bad.setAttribute('aria-describedby', slot.id);
      }
    }
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** A button that runs an action with its own error slot right after it. */
export function actionButton(text, action, props) {
  const slot = errorSlot();
  const button = h('button', Object.assign({ type: 'button', text }, props || {}));
  button.addEventListener('click', () => run(button, slot, action));
  const wrap = h('span', { class: 'action' }, button, slot);
  wrap.button = button;
  return wrap;
}

/**
 * A destructive action asks first, inline (keyboard friendly, no window.confirm): the button turns into
 * "Really …? Yes / Cancel".
 */
export function confirmButton(text, question, action) {
  const slot = errorSlot();
  const wrap = h('span', { class: 'action' });
  const first = h('button', { type: 'button', class: 'danger', text });
  const ask = () => {
    const yes = h('button', { type: 'button', class: 'danger', text: 'Yes, ' + text.toLowerCase() });
    const no = h('button', { type: 'button', text: 'Cancel' });
    no.addEventListener('click', () => { clear(wrap, first, slot); first.focus(); });
    yes.addEventListener('click', () => run(yes, slot, action));
    clear(wrap, h('span', { class: 'question', text: question }), yes, no, slot);
    yes.focus();
  };
  first.addEventListener('click', ask);
  append(wrap, [first, slot]);
  return wrap;
}

/** A form whose submit runs an action; errors go to the slot beside its submit button. */
export function form(fields, submitText, action, props) {
  const slot = errorSlot();
  const submit = h('button', { type: 'submit', text: submitText });
  const el = h('form', Object.assign({ class: 'form', novalidate: true }, props || {}), fields,
    h('div', { class: 'actions' }, submit, slot));
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    run(submit, slot, () => action(new FormData(el), el), el);
  });
  // Not 'slot': every element already has that (a string, for shadow DOM slots).
  el.messageSlot = slot;
  return el;
}

export function table(headers, rows, caption) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', { text: caption }) : null,
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'empty', text: 'None yet.' })))));
}

export function when(value) {
  if (!value) return '';
  const d = new Date(value);
  return isNaN(d) ? String(value) : d.toLocaleString();
}

export function bytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return (i === 0 ? v : v.toFixed(1)) + ' ' + units[i];
}

export function badge(state) {
  return h('span', { class: 'badge state-' + String(state || 'unknown').toLowerCase(), text: state || 'unknown' });
}

export function loadInto(el, loader) {
  clear(el, h('p', { class: 'muted', text: 'Loading…' }));
  return loader().catch((e) => {
    clear(el, h('p', { class: 'error', role: 'alert', text: e.message }));
  });
}
