/**
 * PNG text chunks (tEXt for Latin-1, iTXt for UTF-8). sharp writes no text chunks of its own, so the
 * stand-in model inserts them after IHDR to label every picture it makes as a stand-in.
 */
import { crc32 } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngTextEntry {
  readonly keyword: string;
  readonly text: string;
}

function chunk(type: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(data.length, 0);
  header.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([header.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([header, data, crc]);
}

function assertKeyword(keyword: string): void {
  // PNG spec: 1–79 Latin-1 printable characters, no leading/trailing/double spaces.
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword) || /^ | $| {2}/.test(keyword)) {
    throw new RangeError(`PNG text keyword "${keyword}" must be 1-79 printable Latin-1 characters`);
  }
}

/** Encodes an entry as tEXt when it is Latin-1, else as uncompressed iTXt (UTF-8). */
function textChunk({ keyword, text }: PngTextEntry): Buffer {
  assertKeyword(keyword);
  if (!text.includes('\0') && [...text].every((ch) => ch.charCodeAt(0) <= 0xff)) {
    return chunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]));
  }
  // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, text.
  return chunk('iTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
}

/** Returns a copy of `png` with the entries inserted right after the IHDR chunk. */
export function addPngText(png: Buffer, entries: readonly PngTextEntry[]): Buffer {
  if (png.length < 33 || !png.subarray(0, 8).equals(SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new TypeError('not a PNG (missing signature or IHDR)');
  }
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([png.subarray(0, ihdrEnd), ...entries.map(textChunk), png.subarray(ihdrEnd)]);
}

/** Reads every tEXt and uncompressed iTXt entry of a PNG, in file order. */
export function readPngText(png: Buffer): PngTextEntry[] {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new TypeError('not a PNG (missing signature)');
  const entries: PngTextEntry[] = [];
  let offset = 8;
  while (offset + 12 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const nul = data.indexOf(0);
    if (type === 'tEXt' && nul > 0) {
      entries.push({ keyword: data.toString('latin1', 0, nul), text: data.toString('latin1', nul + 1) });
    } else if (type === 'iTXt' && nul > 0 && data[nul + 1] === 0) {
      const languageEnd = data.indexOf(0, nul + 3);
      const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
      if (translatedEnd >= 0) entries.push({ keyword: data.toString('latin1', 0, nul), text: data.toString('utf8', translatedEnd + 1) });
    }
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  return entries;
}
