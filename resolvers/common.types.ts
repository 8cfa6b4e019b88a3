import { ArgsType, type ClassType, Field, ID, InterfaceType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { encodeCursor, type Page } from '../src/db/keyset';
import { DomainError, UserErrorCode, type UserErrorData } from '../src/errors';
import type { Context } from '../src/graphql/context';
import { isStripeOutage } from '../src/payments/stripe';
import { ID_KINDS, idKind } from '../src/ids';

registerEnumType(UserErrorCode, { name: 'UserErrorCode', description: 'Why a mutation was refused' });

@InterfaceType('Node', {
  description: 'An object with a globally unique, opaque, prefixed id',
  resolveType: (value: { id: string }) => ID_KINDS[idKind(value.id)!].typeName,
})
export abstract class NodeInterface {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ description: 'A business reason why a mutation did not do what was asked' })
export class UserError {
  @Field(() => [String], { nullable: true, description: 'Path to the input field at fault' })
  field!: string[] | null;

  @Field()
  message!: string;

  @Field(() => UserErrorCode)
  code!: UserErrorCode;
}

/** Every mutation payload: its result fields, null when refused, and why it was refused. */
@ObjectType()
export abstract class MutationPayload {
  @Field(() => [UserError])
  userErrors!: UserError[];
}

/** Every `<object>Remove` payload: the id of what is gone, for a client to drop from its cache and lists. */
@ObjectType()
export abstract class RemovePayload extends MutationPayload {
  @Field(() => ID, { nullable: true, description: 'The id of what was removed' })
  removedId?: string;
}

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field()
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

/** The arguments of every Relay connection: `first`/`after` towards older rows, `last`/`before` towards newer ones. */
@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, { nullable: true })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}

export interface ConnectionShape<T> {
  edges: Array<{ cursor: string; node: T }>;
  nodes: T[];
  pageInfo: PageInfo;
}

/** Builds the `<Name>Connection` and `<Name>Edge` types of a Relay connection once. */
export function Connection<T extends object>(nodeType: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field()
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => [nodeType], { description: 'The nodes of the edges, for clients that need no cursors' })
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return ConnectionType;
}

/** A page as a connection; its cursors are (created_at, id) unless `cursorOf` says otherwise. */
export function toConnection<T extends { id: string; createdAt: Date }>(page: Page<T>): ConnectionShape<T>;
export function toConnection<T>(page: Page<T>, cursorOf: (node: T) => string): ConnectionShape<T>;
export function toConnection<T>(page: Page<T>, cursorOf = encodeCursor as (node: T) => string): ConnectionShape<T> {
  const edges = page.nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    nodes: page.nodes,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

export type WithUserErrors<P> = Partial<P> & { userErrors: UserErrorData[] };

/**
 * Runs a mutation's one service call and maps a business denial to `userErrors`; faults
 * propagate. Afterwards the request forgets what it had read, as the write may have changed it.
 */
export async function withUserErrors<P extends object>(ctx: Context, work: () => Promise<P>): Promise<WithUserErrors<P>> {
  try {
    return { ...(await work()), userErrors: [] };
  } catch (error) {
    if (error instanceof DomainError) return { userErrors: [error.toUserError()] } as WithUserErrors<P>;
    // Not a fault of ours, nor the client's: Stripe was out of reach or failing (each payment
    // operation calls it before it changes anything it cannot redo), so the same request may be
    // sent again.
    if (isStripeOutage(error)) {
      const outage = new DomainError(UserErrorCode.PAYMENT_PROVIDER_ERROR, 'Stripe could not be reached or failed: send the same request again');
      return { userErrors: [outage.toUserError()] } as WithUserErrors<P>;
    }
    throw error;
  } finally {
    ctx.forgetReads();
  }
}
