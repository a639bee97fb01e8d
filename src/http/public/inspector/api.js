// @ts-check
/**
 * The admin API as the page calls it. The token is kept in sessionStorage, never in
 * the page's HTML or URLs, and sent as `Authorization: Bearer`.
 */

const TOKEN_KEY = 'wsmesh.inspector.token';

/** The server answered 401: the token is wrong (or was rotated). */
export class AuthError extends Error {}

/** Any other refusal: the HTTP status and the error code of the catalogue (`ERR_NOT_FOUND`). */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (/** @type {string} */ value) => sessionStorage.setItem(TOKEN_KEY, value),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** @returns {Record<string, string>} */
export const authorization = () => ({ authorization: `Bearer ${token.get()}` });

/**
 * GET a JSON resource of the admin API.
 * @param {string} path @param {AbortSignal} [signal]
 * @returns {Promise<any>}
 */
export async function api(path, signal) {
  const res = await fetch(path, { headers: authorization(), cache: 'no-store', signal });
  if (res.status === 401) throw new AuthError();
  const body = await res.json();
  if (!res.ok) throw new ApiError(res.status, body.error ?? String(res.status), body.message ?? '');
  return body;
}
