import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/fixtures';
import { freePort } from './support/process';

const ROOT = join(__dirname, '..');

interface Block {
  /** A ```sh block, typed by the person; otherwise what the command before it prints. */
  command: boolean;
  text: string;
}

/** The fenced blocks of one README section, in order. */
function readmeBlocks(title: string): Block[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/^```(sh)?\n([\s\S]*?)^```$/gm)].map(([, sh, text]) => ({ command: sh === 'sh', text }));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `output` has the `expected` lines in order (npm's own lines may come between); `…` stands for the random part of an id. */
function shows(output: string, expected: string): boolean {
  const lines = output.split('\n');
  let at = 0;
  for (const line of expected.trimEnd().split('\n')) {
    const pattern = new RegExp(`^${line.split('…').map(escapeRegExp).join('\\w+')}$`);
    while (at < lines.length && !pattern.test(lines[at])) at += 1;
    if (at === lines.length) return false;
    at += 1;
  }
  return true;
}

/** A terminal that runs one long-lived command (npm and what it starts, as one process group). */
class Terminal {
  readonly child: ChildProcessWithoutNullStreams;
  output = '';

  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['-c', command], { cwd: ROOT, env, detached: true });
    const read = (chunk: Buffer) => (this.output += chunk.toString());
    this.child.stdout.on('data', read);
    this.child.stderr.on('data', read);
  }

  /** Resolves when the output satisfies `ready`; fails when the command ends first. */
  until(ready: (output: string) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ready(this.output)) return;
        finish();
        resolve();
      };
      const ended = (code: number | null) => {
        finish();
        reject(new Error(`the command ended (${code}) with:\n${this.output}`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`not ready in time:\n${this.output}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.child.stdout.off('data', check);
        this.child.stderr.off('data', check);
        this.child.off('exit', ended);
      };
      this.child.stdout.on('data', check);
      this.child.stderr.on('data', check);
      this.child.on('exit', ended);
      check();
    });
  }

  /** Ctrl-C, as a person stops it. */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    process.kill(-this.child.pid!, 'SIGINT');
    return exited;
  }
}

/** A terminal at a shell prompt: each command runs in the same bash, so variables and functions carry over. */
class Shell {
  private readonly child: ChildProcessWithoutNullStreams;
  private output = '';
  private commands = 0;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd: ROOT, env });
    this.child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stdin.write('exec 2>&1\n');
  }

  /** Runs what a person types and answers what it printed. */
  async run(typed: string): Promise<string> {
    this.commands += 1;
    const done = `--- command ${this.commands} done ---\n`;
    this.child.stdin.write(`${typed}echo '${done.trim()}'\n`);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!this.output.includes(done)) return;
        this.child.stdout.off('data', check);
        this.child.off('exit', ended);
        resolve();
      };
      const ended = () => reject(new Error(`the shell ended after:\n${typed}\nwith:\n${this.output}`));
      this.child.stdout.on('data', check);
      this.child.once('exit', ended);
      check();
    });
    const printed = this.output.slice(0, this.output.indexOf(done));
    this.output = this.output.slice(this.output.indexOf(done) + done.length);
    return printed;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** A query alone on its line may be run again until what it shows has happened (a job, a webhook). */
const isQuery = (command: string) => /^gql <<< (['"])\{[^\n]*\1\n$/.test(command);

describe('README: Try purchases offline', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-offline-'));
  const terminals: Terminal[] = [];
  let shell: Shell | null = null;

  afterAll(async () => {
    shell?.close();
    await Promise.all(terminals.map((terminal) => terminal.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('works as written: billing details set, a card saved, credits bought, 3-D Secure passed, an auto top-up and a refund', async () => {
    const [payments, printed, tollgate, ...steps] = readmeBlocks('Try purchases offline');
    expect([payments.command, printed.command, tollgate.command]).toEqual([true, false, true]);
    // tollgate gets a free port instead of 4000 (never used on this machine), and the payments
    // server is told to send its webhooks there, as the README says.
    const port = await freePort();
    const onPort = (text: string) => text.replace(/:4000\b/g, `:${port}`);
    const { DATABASE_URL: _database, TOLLGATE_ADMIN_TOKEN: _admin, STRIPE_SECRET_KEY: _key, STRIPE_WEBHOOK_SECRET: _secret, STRIPE_API_BASE: _base, ...env } = process.env;

    const paymentsServer = new Terminal(payments.text, { ...env, PAYMENTS_LOCAL_WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/stripe` });
    terminals.push(paymentsServer);
    await paymentsServer.until((output) => shows(output, onPort(printed.text)), 30_000);

    // On a fresh machine: the embedded database, in a folder of its own.
    const server = new Terminal(tollgate.text, { ...env, PORT: String(port), TOLLGATE_DATA_DIR: dataDir });
    terminals.push(server);
    await server.until((output) => /^Demo API key: \S+$/m.test(output), 150_000);
    const printedAs = (label: string) => new RegExp(`^${label}: (\\S+)$`, 'm').exec(server.output)![1];

    // What the person copies from tollgate's output into the third terminal.
    const typed = (text: string) =>
      onPort(text)
        .replace('tgm_…', printedAs('Demo owner token'))
        .replace('tga_…', printedAs('Admin token'))
        .replace('tgw_…', printedAs('Demo gateway token'))
        .replace('tg_…', printedAs('Demo API key'));
    const prompt = new Shell(env);
    shell = prompt;
    for (let i = 0; i < steps.length; i += 1) {
      if (!steps[i].command) continue;
      const command = typed(steps[i].text);
      const next = steps[i + 1];
      if (!next || next.command) {
        // A command the README shows no output of prints nothing.
        expect({ command, printed: await prompt.run(command) }).toEqual({ command, printed: '' });
        continue;
      }
      const expected = onPort(next.text);
      let output = await prompt.run(command);
      if (isQuery(command) && !shows(output, expected)) {
        // It shows what happens in the background (a job, a webhook): the person asks again a moment later.
        await eventually(async () => shows((output = await prompt.run(command)), expected)).catch(() => undefined);
      }
      if (!shows(output, expected)) throw new Error(`The README's\n${command}\nprinted\n${output}\ninstead of\n${expected}`);
    }
  }, 300_000);
});
