import { ID_PREFIXES, type IdKind, idKind } from '../ids';
import { badUserInput } from './errors';

/** Checks that an input id names the expected kind of object, before any work is done. */
export function parseId(kind: IdKind, value: string, argument: string): string {
  if (idKind(value) !== kind) throw badUserInput(`${argument}: "${value.slice(0, 80)}" is not a valid ${ID_PREFIXES[kind]}_… id`);
  return value;
}

/** Each id of a list argument, as `parseId` does (null stays null). */
export function parseIds(kind: IdKind, values: string[] | null | undefined, argument: string): string[] | null | undefined {
  return values?.map((value, i) => parseId(kind, value, `${argument}[${i}]`));
}
