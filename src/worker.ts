/** A part of the app that a shutdown stops at its turn. */
export interface Stoppable {
  /** For logs: which part the shutdown is at. */
  readonly name: string;
  stop(): Promise<void>;
}

/**
 * Work the app does in the background, beside the requests it serves: started once the app is
 * built, stopped in the app's shutdown order.
 */
export interface Worker extends Stoppable {
  start(): Promise<void>;
}

/** A stop of its own for a part that has nothing to start (an engine's drain, a server's close). */
export function stoppable(name: string, stop: () => Promise<void>): Stoppable {
  return { name, stop };
}

/**
 * Whether the app still takes new operations. The shutdown closes it first, so that nothing
 * new is committed while what was accepted finishes.
 */
export class Admission implements Stoppable {
  readonly name = 'admission';
  private closed = false;

  get stopping(): boolean {
    return this.closed;
  }

  async stop(): Promise<void> {
    this.closed = true;
  }
}
