import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { SelmixError } from "@selmix/core";

/** One regular file of a tar archive. @internal */
export interface TarMember {
  readonly name: string;
  readonly data: Uint8Array;
}

const BLOCK = 512;

function field(header: Uint8Array, offset: number, length: number): string {
  const bytes = header.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
}

function octal(header: Uint8Array, offset: number, length: number, archive: string): number {
  const text = field(header, offset, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new SelmixError("CORRUPT_FILE", `${archive}: bad tar header number "${text}"`);
  return Number.parseInt(text, 8);
}

function checkHeader(header: Uint8Array, archive: string): void {
  const stored = octal(header, 148, 8, archive);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  if (sum !== stored) throw new SelmixError("CORRUPT_FILE", `${archive}: tar header checksum mismatch (not a tar archive?)`);
}

/**
 * Streams a `.tar.gz` (or plain `.tar`) archive and returns the regular files for which `want(name)` is true,
 * without holding the whole archive in memory. Understands ustar (with the name prefix) and GNU long names.
 *
 * @throws `SelmixError` `NOT_FOUND` if the archive cannot be opened, `CORRUPT_FILE` naming it if the gzip
 *   stream, a header checksum or the length is wrong (truncated).
 * @internal
 */
export async function readTarMembers(archive: string, want: (name: string) => boolean): Promise<TarMember[]> {
  const members: TarMember[] = [];
  const pending: Buffer[] = [];
  let pendingLength = 0;
  // parser state
  let header: Uint8Array | undefined;
  let name = "";
  let longName: string | undefined;
  let remaining = 0; // content bytes left in the current entry
  let padding = 0;
  let collect: Uint8Array | undefined;
  let collected = 0;
  let kind = "";
  let ended = false;

  const take = (n: number): Buffer => {
    const whole = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLength);
    const out = whole.subarray(0, n);
    const rest = whole.subarray(n);
    pending.length = 0;
    pendingLength = rest.length;
    if (rest.length > 0) pending.push(rest);
    return out;
  };

  const finishEntry = (): void => {
    if (kind === "L" && collect !== undefined) {
      longName = field(collect, 0, collect.length);
    } else if (collect !== undefined) {
      members.push({ name, data: collect });
    }
    collect = undefined;
    header = undefined;
  };

  const drain = (): void => {
    for (;;) {
      if (ended) {
        pending.length = 0;
        pendingLength = 0;
        return;
      }
      if (header === undefined) {
        if (pendingLength < BLOCK) return;
        const block = new Uint8Array(take(BLOCK));
        if (block.every((b) => b === 0)) {
          ended = true;
          continue;
        }
        checkHeader(block, archive);
        header = block;
        const prefix = field(block, 345, 155);
        const magic = field(block, 257, 6);
        name = longName ?? (magic.startsWith("ustar") && prefix !== "" ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
        longName = undefined;
        kind = String.fromCharCode(block[156] || 0x30);
        remaining = octal(block, 124, 12, archive);
        padding = (BLOCK - (remaining % BLOCK)) % BLOCK;
        const isFile = kind === "0" || kind === "\0" || kind === "7";
        collect = kind === "L" || (isFile && want(name)) ? new Uint8Array(remaining) : undefined;
        collected = 0;
      }
      if (remaining > 0) {
        if (pendingLength === 0) return;
        const chunk = take(Math.min(remaining, pendingLength));
        collect?.set(chunk, collected);
        collected += chunk.length;
        remaining -= chunk.length;
        if (remaining > 0) return;
      }
      if (padding > 0) {
        if (pendingLength === 0) return;
        const skipped = Math.min(padding, pendingLength);
        take(skipped);
        padding -= skipped;
        if (padding > 0) return;
      }
      finishEntry();
    }
  };

  const stream = createReadStream(archive);
  const source = archive.endsWith(".gz") || archive.endsWith(".tgz") ? stream.pipe(createGunzip()) : stream;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingLength += chunk.length;
      drain();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") {
      throw new SelmixError("NOT_FOUND", `${archive}: cannot read file (${code})`, { cause: error });
    }
    if (error instanceof SelmixError) throw error;
    throw new SelmixError("CORRUPT_FILE", `${archive}: corrupt gzip stream (${(error as Error).message})`, { cause: error });
  } finally {
    stream.destroy();
  }
  if (header !== undefined) {
    throw new SelmixError("CORRUPT_FILE", `${archive}: truncated tar archive (entry "${name}" is incomplete)`);
  }
  if (!ended) throw new SelmixError("CORRUPT_FILE", `${archive}: truncated tar archive (no end-of-archive marker)`);
  return members;
}
