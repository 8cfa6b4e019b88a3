import cors from 'cors';

export interface CorsSettings {
  /** Exact origins allowed to call the API from a browser, e.g. https://dashboard.example.com */
  origins: readonly string[];
  /** Also any origin on this machine (the embedded demo: a dashboard in development). */
  loopback: boolean;
}

const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/;

/**
 * CORS for the GraphQL endpoint: an allowed origin gets its preflight answered and may send the
 * Authorization header; any other origin gets no CORS header at all, so the browser keeps the
 * answer from it. (Apollo's CSRF prevention still refuses the simple requests a page could send
 * without a preflight.)
 */
export function corsHandler(settings: CorsSettings) {
  const allowed = new Set(settings.origins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && (allowed.has(origin) || (settings.loopback && LOOPBACK_ORIGIN.test(origin)))),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'apollo-require-preflight', 'x-apollo-operation-name'],
    exposedHeaders: ['x-request-id'],
    maxAge: 600,
  });
}
