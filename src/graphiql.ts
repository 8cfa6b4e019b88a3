import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { dirname, join } from 'node:path';

/** The directory of an installed package (its `exports` hide the files served here). */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`the package ${name} is not installed`);
    dir = parent;
  }
  return dir;
}

interface Asset {
  file: string;
  contentType: string;
}

/** Files of npm packages the page loads, by name under `/graphiql/`: nothing comes from a CDN. */
function assets(): Map<string, Asset> {
  const js = 'text/javascript; charset=utf-8';
  return new Map([
    ['react.js', { file: join(packageDir('react'), 'umd/react.production.min.js'), contentType: js }],
    ['react-dom.js', { file: join(packageDir('react-dom'), 'umd/react-dom.production.min.js'), contentType: js }],
    ['graphiql.js', { file: join(packageDir('graphiql'), 'graphiql.min.js'), contentType: js }],
    ['graphiql.css', { file: join(packageDir('graphiql'), 'graphiql.min.css'), contentType: 'text/css; charset=utf-8' }],
    ['graphql-ws.js', { file: join(packageDir('graphql-ws'), 'umd/graphql-ws.min.js'), contentType: js }],
  ]);
}

export const GRAPHIQL_ASSET_PATH = '/graphiql/';

const DEFAULT_QUERY = `# tollgate: prepaid credits and live balances for AI gateways.
#
# Send your access token as a header (below): {"Authorization": "Bearer <token>"}.
# Run this query, then watch a wallet's balance move live with:
#
#   subscription { walletBalanceChanged(walletId: "wal_…") { balance availableBalance change } }

query Wallets {
  viewer {
    organization {
      name
      workspaces(first: 10) {
        nodes {
          name
          wallet { id balance }
        }
      }
    }
  }
}
`;

/**
 * The browser side: queries and mutations over HTTP with GraphiQL's own fetcher, subscriptions
 * over graphql-ws. A WebSocket cannot carry headers, so the Authorization header of the editor
 * goes in the connection's parameters (one connection per distinct header).
 */
const SETUP = `
const config = JSON.parse(document.getElementById('graphiql-config').textContent);
const httpUrl = location.origin + location.pathname;
const wsUrl = httpUrl.replace(/^http/, 'ws');
const httpFetcher = GraphiQL.createFetcher({ url: httpUrl });
const wsClients = new Map();
function wsClient(authorization) {
  if (!wsClients.has(authorization)) {
    wsClients.set(authorization, graphqlWs.createClient({ url: wsUrl, lazy: true, connectionParams: authorization ? { authorization } : {} }));
  }
  return wsClients.get(authorization);
}
function isSubscription(params, documentAST) {
  const operations = (documentAST ? documentAST.definitions : []).filter((d) => d.kind === 'OperationDefinition');
  const chosen = operations.find((d) => !params.operationName || (d.name && d.name.value === params.operationName));
  return chosen ? chosen.operation === 'subscription' : /^\\s*subscription\\b/m.test(params.query);
}
function fetcher(params, options) {
  if (!isSubscription(params, options && options.documentAST)) return httpFetcher(params, options);
  const headers = (options && options.headers) || {};
  const authorization = Object.keys(headers).filter((name) => name.toLowerCase() === 'authorization').map((name) => headers[name])[0];
  return wsClient(authorization).iterate(params);
}
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: config.defaultQuery,
    defaultHeaders: config.headers || undefined,
    headers: config.headers || undefined,
    defaultEditorToolsVisibility: 'headers',
  }),
);
`;

/** JSON that can sit inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** The GraphiQL page, with `demoToken` (if any) pre-filled as the Authorization header. */
function graphiqlPage(demoToken: string | null): string {
  const headers = demoToken ? JSON.stringify({ Authorization: `Bearer ${demoToken}` }, null, 2) : null;
  const asset = (name: string) => `graphiql/${name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tollgate · GraphiQL</title>
<link rel="stylesheet" href="${asset('graphiql.css')}">
<style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="${asset('react.js')}"></script>
<script src="${asset('react-dom.js')}"></script>
<script src="${asset('graphiql.js')}"></script>
<script src="${asset('graphql-ws.js')}"></script>
<script id="graphiql-config" type="application/json">${scriptJson({ defaultQuery: DEFAULT_QUERY, headers })}</script>
<script>${SETUP}</script>
</body>
</html>
`;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Also true for an IPv4 loopback address mapped into IPv6 (`::ffff:127.0.0.1`). */
function isLoopback(address: string): boolean {
  const version = isIP(address);
  return version !== 0 && LOOPBACK.check(address, version === 6 ? 'ipv6' : 'ipv4');
}

/** Headers a proxy adds: the one who asked is elsewhere, whatever address the connection has. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/**
 * Whether a request comes from this machine, judged by its connection's address, never by what
 * headers claim. A proxied request does not count, nor one addressed to a name other than a
 * loopback one: a web page that points its own name at 127.0.0.1 (DNS rebinding) could read the page.
 */
export function isLocalRequest(req: IncomingMessage): boolean {
  if (PROXY_HEADERS.some((name) => req.headers[name] !== undefined)) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${req.headers.host ?? ''}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return false;
  }
  return isLoopback(req.socket.remoteAddress ?? '') && (hostname === 'localhost' || isLoopback(hostname));
}

/**
 * The GraphiQL page for a request. `demoToken`, given only in embedded demo mode, is pre-filled
 * as the Authorization header so that the first query just runs, for a browser on this machine
 * only: anyone else must bring a token.
 */
export function graphiqlPages(demoToken: string | null): (req: IncomingMessage) => string {
  const withToken = graphiqlPage(demoToken);
  const withoutToken = graphiqlPage(null);
  return (req) => (isLocalRequest(req) ? withToken : withoutToken);
}

/** Reads the asset files once, on first use. */
export function graphiqlAssets(): (name: string) => { body: Buffer; contentType: string } | null {
  const files = assets();
  const loaded = new Map<string, { body: Buffer; contentType: string }>();
  return (name) => {
    const asset = files.get(name);
    if (!asset) return null;
    let found = loaded.get(name);
    if (!found) loaded.set(name, (found = { body: readFileSync(asset.file), contentType: asset.contentType }));
    return found;
  };
}
