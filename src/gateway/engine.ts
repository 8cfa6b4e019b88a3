import type { EntityManager } from '@mikro-orm/postgresql';
import { publishPosted, type TopUpTrigger } from '../ledger/ledger';
import type { EventBus } from '../realtime/pubsub';
import { type BatchDatabase, type BatchResult, isIdempotencyRace, processBatch } from './batch';
import { batchDatabase } from './session';
import type { GatewayOutcome, GatewayRequest } from './contract';

export interface EngineOptions {
  em: EntityManager;
  bus: EventBus;
  clock: () => Date;
  /** How long an authorization holds credits unless captured or released. */
  holdTtlMs?: number;
  /** The most requests decided in one database transaction. */
  maxBatch?: number;
  /** Batches in flight at once; the next one forms while they commit. */
  concurrency?: number;
  /**
   * Auto top-ups, where this server makes them: after a commit, the wallets it left below their
   * threshold or that refused a debit for lack of credits below it; the daily limit tells a
   * refusal whether a top-up is coming.
   */
  autoTopUps?: TopUpTrigger & { readonly dailyLimit: number };
  /** After a commit: how long its transaction took (retries included) and what it answered. */
  onBatch?: (seconds: number, outcomes: GatewayOutcome[]) => void;
}

interface Waiting {
  request: GatewayRequest;
  resolve(outcome: GatewayOutcome): void;
  reject(error: unknown): void;
}

export const DEFAULT_HOLD_TTL_MS = 10 * 60 * 1000;
const MAX_ATTEMPTS = 5;
/** Deadlock, serialization failure: the batch's transaction was rolled back and may run again. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

/**
 * Group commit for the gateway: requests that arrive while a batch is being committed wait
 * together and go into the next batch, so under load one transaction carries many debits and
 * the hot wallet row is locked once per batch instead of once per debit. When idle, a request
 * is sent at the next turn of the event loop, alone.
 */
export class DebitEngine {
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Requests submitted and not yet answered. */
  private readonly outstanding = new Set<Promise<GatewayOutcome>>();
  private readonly holdTtlMs: number;
  private readonly maxBatch: number;
  private readonly concurrency: number;
  private readonly db: BatchDatabase;

  constructor(private readonly options: EngineOptions) {
    this.db = batchDatabase(options.em.getConnection().getKnex());
    this.holdTtlMs = options.holdTtlMs ?? DEFAULT_HOLD_TTL_MS;
    this.maxBatch = options.maxBatch ?? 4000;
    this.concurrency = options.concurrency ?? 2;
  }

  submit(request: GatewayRequest): Promise<GatewayOutcome> {
    const answer = new Promise<GatewayOutcome>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
    this.outstanding.add(answer);
    const forget = () => this.outstanding.delete(answer);
    answer.then(forget, forget);
    return answer;
  }

  submitAll(requests: GatewayRequest[]): Promise<GatewayOutcome[]> {
    return Promise.all(requests.map((request) => this.submit(request)));
  }

  /** Resolves once every request submitted so far is answered. */
  drain(): Promise<void> {
    return Promise.allSettled([...this.outstanding]).then(() => undefined);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.commit(batch).finally(() => {
        this.inFlight -= 1;
        if (this.queue.length > 0) this.pump();
      });
    }
  }

  private async commit(batch: Waiting[]): Promise<void> {
    try {
      const started = process.hrtime.bigint();
      const { outcomes, posting } = await this.runBatch(batch.map((waiting) => waiting.request));
      batch.forEach((waiting, i) => waiting.resolve(outcomes[i]));
      this.options.onBatch?.(Number(process.hrtime.bigint() - started) / 1e9, outcomes);
      publishPosted(this.options, posting);
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // A fault rolled the whole batch back: run each half again, and so on down to the
      // request that causes it, so that only that request fails and its neighbours are answered
      // (about 2·log2(n) batches instead of n).
      const half = Math.ceil(batch.length / 2);
      await this.commit(batch.slice(0, half));
      await this.commit(batch.slice(half));
    }
  }

  /** The gateway path needs none of the unit of work: it runs its own few statements on the shared pool. */
  private async runBatch(requests: GatewayRequest[]): Promise<BatchResult> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await processBatch(this.db, requests, this.options.clock(), {
          holdTtlMs: this.holdTtlMs,
          topUpDailyLimit: this.options.autoTopUps?.dailyLimit ?? null,
        });
      } catch (error) {
        const retryable = isIdempotencyRace(error) || RETRYABLE_SQLSTATES.has((error as { code?: string }).code ?? '');
        if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}
