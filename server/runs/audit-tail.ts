/**
 * Reading the end of the audit log without reading all of it: lines are read backwards from the end
 * in growing chunks, so continuing the chain costs the same whatever the log's size. The scan finds
 * the last whole, well-formed record (anything after it is a torn write) and the last digest.
 */
import { DIGEST_TYPE, parseRecordLine, type AuditRecord } from './audit-record.js';
import type { DigestPointer } from './audit-digest.js';

/** What reading needs of a file handle (a FileHandle has it). */
export interface ReadableFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

export interface Line {
  /** byte offset of the line's first byte */
  offset: number;
  bytes: Buffer;
  /** false for bytes after the file's last newline */
  terminated: boolean;
}

const FIRST_CHUNK = 8 * 1024;
const MAX_CHUNK = 1024 * 1024;

export async function readFully(file: ReadableFile, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await file.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) throw new Error(`the audit log ended at ${position + done} while reading up to ${position + buffer.length}`);
    done += bytesRead;
  }
}

/** The lines of bytes [start, end) from the last to the first; `start` must be a line start. */
export async function* linesBackward(file: ReadableFile, end: number, start = 0): AsyncGenerator<Line> {
  let pos = end;
  let carry = Buffer.alloc(0);
  let atEnd = true;
  let chunk = FIRST_CHUNK;
  while (pos > start) {
    const n = Math.min(chunk, pos - start);
    chunk = Math.min(chunk * 2, MAX_CHUNK);
    const buf = Buffer.alloc(n);
    await readFully(file, buf, pos - n);
    pos -= n;
    const data = carry.length > 0 ? Buffer.concat([buf, carry]) : buf;
    let lineEnd = data.length;
    for (let i = data.length - 1; i >= 0; i--) {
      if (data[i] !== 0x0a) continue;
      const bytes = data.subarray(i + 1, lineEnd);
      // After the last newline: a torn line, or nothing when the file ends with a newline.
      if (!atEnd || bytes.length > 0) yield { offset: pos + i + 1, bytes, terminated: !atEnd };
      atEnd = false;
      lineEnd = i;
    }
    carry = Buffer.from(data.subarray(0, lineEnd));
  }
  // The first line: whatever precedes the first newline (even nothing), or the whole range if none.
  if (carry.length > 0 || !atEnd) yield { offset: start, bytes: carry, terminated: !atEnd };
}

export interface Tail {
  /** the offset just past the last whole, well-formed record: bytes after it are torn */
  end: number;
  /** the last whole, well-formed record in the scanned range */
  last?: AuditRecord;
  /** the last digest record in the scanned range */
  digest?: DigestPointer;
}

/**
 * Scans [start, size) backwards for the last record and the last digest, stopping at the first
 * digest it meets: with a digest at least every hundred records this reads little. `start` is a
 * record boundary the caller already knows (0 to scan the whole log when there is no digest).
 */
export async function scanTail(file: ReadableFile, size: number, start = 0): Promise<Tail> {
  const tail: Tail = { end: start };
  for await (const line of linesBackward(file, size, start)) {
    // A line without its newline is torn even if it parses: the write that made it did not finish.
    const rec = line.terminated ? parseRecordLine(line.bytes.toString('utf8')) : undefined;
    if (!tail.last) {
      if (!rec) continue;
      tail.last = rec;
      tail.end = line.offset + line.bytes.length + 1;
    }
    if (rec?.type === DIGEST_TYPE) {
      tail.digest = { seq: rec.seq, hash: rec.hash };
      break;
    }
  }
  return tail;
}
