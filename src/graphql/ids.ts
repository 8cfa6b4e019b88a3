import { type IdKind, idKind } from '../ids';
import { badUserInput } from './errors';

/** Checks that an input id names the expected kind of object, before any work is done. */
export function parseId(kind: IdKind, value: string, argument: string): string {
  if (idKind(value) !== kind) throw badUserInput(`${argument}: "${value.slice(0, 80)}" is not a ${kind} id`);
  return value;
}
