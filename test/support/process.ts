import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { GATEWAY_TOKEN } from './app';

export interface ServerProcess {
  url: string;
  process: ChildProcessWithoutNullStreams;
  /** Everything it has written so far, stdout and stderr. */
  output(): string;
}

/** Another tollgate server process (src/main.ts) on the run's database, with `env` on top. */
export async function spawnServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const root = join(__dirname, '..', '..');
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: process.env.TOLLGATE_TEST_DATABASE_URL,
      TOLLGATE_GATEWAY_TOKENS: GATEWAY_TOKEN,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // Like the test apps (support/app.ts): it may deliver any test's alerts, to receivers on this machine.
      TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE: 'true',
      ...env,
    },
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /^GraphQL: (\S+)\/graphql$/m.exec(output)?.[1];
      if (found) resolve(found);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => reject(new Error(`the server process exited with ${code}:\n${output}`)));
  });
  child.removeAllListeners('exit');
  return { url, process: child, output: () => output };
}

/** A port that nothing listens on now, for a process that must be told its port before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
