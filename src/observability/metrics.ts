import type { ApolloServerPlugin } from '@apollo/server';
import { type DocumentNode, Kind, type OperationDefinitionNode } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BusObserver } from '../realtime/pubsub';
import type { GatewayOutcome } from '../gateway/contract';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The server's Prometheus metrics, on a registry of its own (several servers may share a
 * process in tests). Operations are labelled by type and root fields ("mutation gatewayDebit"),
 * which the schema bounds, never by client-chosen operation names.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly operations = new Counter({
    name: 'tollgate_graphql_operations_total',
    help: 'GraphQL operations by operation, transport and outcome (ok, error)',
    labelNames: ['operation', 'transport', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly operationSeconds = new Histogram({
    name: 'tollgate_graphql_operation_duration_seconds',
    help: 'Time to answer a query or mutation (subscriptions: to start)',
    labelNames: ['operation', 'transport'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'tollgate_gateway_batch_size',
    help: 'Gateway requests decided in one database transaction',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 4000],
    registers: [this.registry],
  });

  readonly commitSeconds = new Histogram({
    name: 'tollgate_gateway_commit_duration_seconds',
    help: "Time of a gateway batch's transaction, from its first read to its commit",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly denials = new Counter({
    name: 'tollgate_gateway_denials_total',
    help: 'Gateway requests refused, by denial code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly pubsubLag = new Histogram({
    name: 'tollgate_pubsub_lag_seconds',
    help: 'From publishing an event to handing it to a subscription of this process',
    labelNames: ['topic'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly idempotencyKeysPurged = new Counter({
    name: 'tollgate_idempotency_keys_purged_total',
    help: 'Idempotency answers deleted once past their retention window',
    registers: [this.registry],
  });

  /**
   * Counted from the moment a subscription listens on the bus: in-process, an event published
   * from then on reaches it; through Redis, its SUBSCRIBE is then on its way.
   */
  readonly subscriptions = new Gauge({
    name: 'tollgate_subscriptions_listening',
    help: 'Subscriptions of this process listening for events, by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_' });
  }

  busObserver(): BusObserver {
    return {
      lag: (topic, seconds) => this.pubsubLag.observe({ topic }, seconds),
      listening: (topic, change) => this.subscriptions.inc({ topic }, change),
    };
  }

  /** One committed gateway batch: its size, its time, and what it refused. */
  gatewayBatch(seconds: number, outcomes: GatewayOutcome[]): void {
    this.batchSize.observe(outcomes.length);
    this.commitSeconds.observe(seconds);
    for (const outcome of outcomes) if (outcome.denial) this.denials.inc({ code: outcome.denial.code });
  }

  operation(transport: 'http' | 'ws', operation: string, seconds: number, ok: boolean): void {
    this.operations.inc({ operation, transport, outcome: ok ? 'ok' : 'error' });
    this.operationSeconds.observe({ operation, transport }, seconds);
  }

  /** Counts and times every operation Apollo answers over HTTP. */
  apolloPlugin(): ApolloServerPlugin {
    return {
      requestDidStart: async () => {
        const started = process.hrtime.bigint();
        return {
          willSendResponse: async ({ document, operationName, errors }) => {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            this.operation('http', operationLabel(document, operationName), seconds, !errors?.length);
          },
        };
      },
    };
  }
}

/** "mutation gatewayDebit", "query viewer,usage": the operation's type and root fields. */
export function operationLabel(document: DocumentNode | undefined, operationName: string | null | undefined): string {
  const operations = (document?.definitions ?? []).filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  const operation = operations.length === 1 ? operations[0] : operations.find((definition) => definition.name?.value === operationName);
  if (!operation) return 'unknown';
  const fields = operation.selectionSet.selections.map((selection) => (selection.kind === Kind.FIELD ? selection.name.value : '…'));
  return `${operation.operation} ${[...new Set(fields)].sort().join(',')}`;
}
