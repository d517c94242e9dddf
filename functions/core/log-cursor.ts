/**
 * A line's place in its preview's log: `<timestamp ms>-<event id>`. CloudWatch gives every log
 * event a numeric id (the same in subscription payloads and in FilterLogEvents), the local store
 * numbers its lines; time first, so cursors of one preview sort in the order its lines were written.
 */
const cursorPattern = /^(\d{1,15})-(\d{1,64})$/;

export function logCursor(timestampMs: number, eventId: string): string {
  return `${timestampMs}-${eventId}`;
}

export function isLogCursor(text: string): boolean {
  return cursorPattern.test(text);
}

function parts(cursor: string): [bigint, bigint] {
  const match = cursorPattern.exec(cursor);
  if (!match) throw new Error(`Not a log cursor: ${cursor}`);
  return [BigInt(match[1] as string), BigInt(match[2] as string)];
}

/** Negative when `a` comes before `b`, zero when they are the same line. */
export function compareCursors(a: string, b: string): number {
  const [timeA, idA] = parts(a);
  const [timeB, idB] = parts(b);
  if (timeA !== timeB) return timeA < timeB ? -1 : 1;
  return idA === idB ? 0 : idA < idB ? -1 : 1;
}

export function cursorTime(cursor: string): Date {
  return new Date(Number(parts(cursor)[0]));
}

/** A cursor as the query API's opaque `nextToken`, and back (undefined when it is not one). */
export function cursorToken(cursor: string): string {
  return Buffer.from(cursor, 'utf8').toString('base64url');
}

export function tokenCursor(token: string): string | undefined {
  const cursor = Buffer.from(token, 'base64url').toString('utf8');
  return isLogCursor(cursor) ? cursor : undefined;
}
