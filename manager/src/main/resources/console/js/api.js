// The REST API as the console calls it: JSON in and out, the session's CSRF token on every change,
// and API errors turned into ApiError carrying the API's own message.
let csrfToken = null;
let onUnauthorized = () => {};

export function setCsrf(token) {
  csrfToken = token;
}

export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch('/api/v1' + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'The Manager could not be reached: ' + e.message);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  if (!response.ok) {
    const error = (json && json.error) || {};
    const failure = new ApiError(response.status, error.code || 'http_' + response.status,
      error.message || 'HTTP ' + response.status, error.details);
    if (response.status === 401 && path !== '/session') onUnauthorized(failure);
    throw failure;
  }
  return json;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);
export const enc = encodeURIComponent;
