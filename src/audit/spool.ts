// The audit spool: where records wait, on local disk, while the store cannot take them. It is a
// queue of append-only files, one JSON record per line:
//
//   <spoolFile>.1, <spoolFile>.2, ...   sealed segments, replayed oldest first
//   <spoolFile>                         the active segment, appended to (fdatasync per batch)
//
// Replay reads a sealed segment in batches; a segment is deleted only once every batch of it is
// in the store. A crash anywhere in between replays that segment again on the next start, and
// the store skips the ids it already holds, so each record is kept exactly once. The active
// segment is sealed (renamed) before it is replayed and, at start, whatever a previous process
// left in it, so a line torn by a crash is never appended to: it stays the last line of a sealed
// segment, where replay skips it and says so.
//
// All file work is asynchronous (the thread pool), one operation at a time in call order.
import { type FileHandle, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AuditRecord } from './record.ts';

/** Records read from a sealed segment, to be appended to the store and then `commit`ted. */
export interface SpoolBatch {
  readonly records: AuditRecord[];
  /** Lines consumed (records plus unreadable lines). */
  readonly lines: number;
  /** The segment is exhausted after this batch: committing it deletes the segment. */
  readonly last: boolean;
  readonly segment: string;
}

export interface Spool {
  /** Settles once leftover segments are found and a previous process's active segment sealed. */
  readonly ready: Promise<void>;
  /** Records waiting in the spool (including writes not yet finished). */
  readonly pending: number;
  /** Anything to replay or being written (a segment may hold only an unreadable line). */
  hasPending(): boolean;
  /** Appends records after everything spooled before, durably (fdatasync); false if nothing could be kept. */
  append(records: readonly AuditRecord[]): Promise<boolean>;
  /** The oldest spooled records not yet committed, at most `max`; undefined when the spool is empty. */
  next(max: number): Promise<SpoolBatch | undefined>;
  /** The batch from `next` is in the store. */
  commit(batch: SpoolBatch): Promise<void>;
  /** Resolves when every operation asked for so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const CHUNK = 256 * 1024;

export function openSpool(file: string, log: (line: string) => void): Spool {
  const dir = dirname(file);
  const base = basename(file);
  const segmentName = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)$`);

  /** Sealed segments, oldest first, with the lines each still holds. */
  const segments: { n: number; path: string; lines: number }[] = [];
  let active: FileHandle | undefined;
  let activeSize = 0;
  let activeLines = 0;
  /** Records handed to `append` whose write has not finished. */
  let writing = 0;
  let reader: SegmentReader | undefined;

  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const run = chain.then(op);
    chain = run.catch(() => {});
    return run;
  };

  const nextNumber = () => (segments.at(-1)?.n ?? 0) + 1;

  const seal = async () => {
    if (active) {
      const closing = active;
      active = undefined;
      await closing.close();
    }
    const n = nextNumber();
    const path = `${file}.${n}`;
    await rename(file, path);
    await syncDir(dir);
    segments.push({ n, path, lines: activeLines });
    activeSize = 0;
    activeLines = 0;
  };

  const ready = serial(async () => {
    try {
      await mkdir(dir, { recursive: true });
      for (const entry of await readdir(dir)) {
        const match = segmentName.exec(entry);
        if (match) segments.push({ n: Number(match[1]), path: join(dir, entry), lines: 0 });
      }
      segments.sort((a, b) => a.n - b.n);
      for (const segment of segments) segment.lines = await countLines(segment.path);
      const left = await stat(file).catch(() => undefined);
      if (left && left.size > 0) {
        activeLines = await countLines(file);
        await seal();
      }
      const waiting = segments.reduce((sum, s) => sum + s.lines, 0);
      if (waiting > 0)
        log(`audit: ${waiting} spooled record(s) from an earlier run will be replayed (${file})`);
    } catch (error) {
      log(`audit: the spool ${file} cannot be read: ${message(error)}`);
    }
  });

  const write = async (data: Buffer): Promise<void> => {
    if (!active) {
      // Records hold who called what with which (redacted) arguments: readable by the owner only.
      active = await open(file, 'a', 0o600);
      activeSize = (await active.stat()).size;
      if (activeSize === 0) await syncDir(dir);
    }
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await active.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    await active.datasync();
  };

  return {
    ready,
    get pending() {
      return segments.reduce((sum, s) => sum + s.lines, 0) + activeLines + writing;
    },

    hasPending: () => segments.length > 0 || activeLines > 0 || writing > 0,

    append(records) {
      if (records.length === 0) return Promise.resolve(true);
      writing += records.length;
      return serial(async () => {
        writing -= records.length;
        let text = '';
        for (const record of records) text += `${JSON.stringify(record)}\n`;
        const data = Buffer.from(text);
        const before = activeSize;
        try {
          await write(data);
          activeSize += data.length;
          activeLines += records.length;
          return true;
        } catch (error) {
          log(`audit: cannot write ${records.length} record(s) to the spool ${file}: ${message(error)}`);
          // A partial write (disk full) must not leave half a line for the next write to extend.
          if (active) {
            try {
              await active.truncate(before);
            } catch {
              // Cannot cut it: seal the segment, so the torn line ends one (where replay skips it).
              await seal().catch(() => {});
            }
          }
          return false;
        }
      });
    },

    next(max) {
      return serial(async () => {
        for (;;) {
          if (!reader) {
            if (segments.length === 0 && activeLines > 0) await seal();
            const segment = segments[0];
            if (!segment) return undefined;
            try {
              reader = await SegmentReader.open(segment.path, log);
            } catch (error) {
              await setAside(segment.path, error);
              continue;
            }
          }
          try {
            return await reader.read(max);
          } catch (error) {
            await reader.close();
            reader = undefined;
            const segment = segments[0];
            if (segment) await setAside(segment.path, error);
          }
        }
      });
    },

    commit(batch) {
      return serial(async () => {
        const segment = segments[0];
        if (!segment || segment.path !== batch.segment) return;
        segment.lines = Math.max(0, segment.lines - batch.lines);
        if (!batch.last) return;
        await reader?.close();
        reader = undefined;
        segments.shift();
        try {
          await unlink(segment.path);
          await syncDir(dir);
        } catch (error) {
          log(`audit: cannot delete the replayed spool segment ${segment.path}: ${message(error)}`);
        }
      });
    },

    idle: () => serial(async () => {}),

    close() {
      return serial(async () => {
        await reader?.close();
        reader = undefined;
        await active?.close();
        active = undefined;
      });
    },
  };

  /** A segment that cannot be read is renamed, never deleted, and said loudly. */
  async function setAside(path: string, error: unknown) {
    const aside = `${path}.unreadable-${Date.now()}`;
    log(`audit: CANNOT READ the spool segment ${path} (${message(error)}); kept as ${aside}, not replayed`);
    segments.shift();
    await rename(path, aside).catch(() => {});
  }
}

/** Reads a segment line by line in chunks; lines that are not records are skipped and reported. */
class SegmentReader {
  private lines: string[] = [];
  private rest = '';
  private position = 0;
  private lineNumber = 0;
  private eof = false;
  private readonly buffer = Buffer.allocUnsafe(CHUNK);
  private readonly decoder = new TextDecoder();

  private readonly handle: FileHandle;
  readonly path: string;
  private readonly log: (line: string) => void;

  private constructor(handle: FileHandle, path: string, log: (line: string) => void) {
    this.handle = handle;
    this.path = path;
    this.log = log;
  }

  static async open(path: string, log: (line: string) => void): Promise<SegmentReader> {
    return new SegmentReader(await open(path, 'r'), path, log);
  }

  async read(max: number): Promise<SpoolBatch> {
    const records: AuditRecord[] = [];
    let lines = 0;
    while (records.length < max) {
      const line = this.lines.shift();
      if (line !== undefined) {
        lines++;
        this.lineNumber++;
        const record = parse(line);
        if (record) records.push(record);
        else
          this.log(`audit: skipped an unreadable line in the spool (${this.path}, line ${this.lineNumber})`);
        continue;
      }
      if (this.eof) break;
      const { bytesRead } = await this.handle.read(this.buffer, 0, CHUNK, this.position);
      this.position += bytesRead;
      if (bytesRead === 0) {
        this.eof = true;
        const torn = this.rest + this.decoder.decode();
        if (torn.length > 0) {
          // Every write ends with a newline: a last line without one was cut by a crash mid-write.
          this.log(
            `audit: skipped a torn last line in the spool (${this.path}, line ${this.lineNumber + 1}, ${torn.length} bytes): a crash cut it mid-write`,
          );
          lines++;
        }
        this.rest = '';
        continue;
      }
      const text = this.rest + this.decoder.decode(this.buffer.subarray(0, bytesRead), { stream: true });
      const parts = text.split('\n');
      this.rest = parts.pop() ?? '';
      for (const part of parts) this.lines.push(part);
    }
    return { records, lines, last: this.eof && this.lines.length === 0, segment: this.path };
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

function parse(line: string): AuditRecord | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
      return value as AuditRecord;
    }
  } catch {}
  return undefined;
}

async function countLines(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let count = 0;
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) return count;
      position += bytesRead;
      const chunk = buffer.subarray(0, bytesRead);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
    }
  } finally {
    await handle.close();
  }
}

/** Makes a file's creation, rename or deletion durable (the directory entry is data too). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
