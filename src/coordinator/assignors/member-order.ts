/**
 * @module
 * The order every assignor deals partitions in, as Kafka does: static members first, by groupInstanceId
 * (stable across restarts), then dynamic members by memberId; raw code-unit comparison, never the locale's.
 */
import type { AssignorMember } from './assignor.ts';

export function compareMembers(a: AssignorMember, b: AssignorMember): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) {
    return compareStrings(a.groupInstanceId, b.groupInstanceId) || compareStrings(a.memberId, b.memberId);
  }
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
