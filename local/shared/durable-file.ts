/**
 * Files that must survive a crash once the write that made them has been answered: written to a
 * temporary file, synced, renamed into place and the directory synced, so a reader finds the old
 * content or the new, never a torn file, and the rename itself survives a power loss.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes `data` to `temp`, syncs it, and renames it to `path`. */
export async function writeFileDurably(path: string, data: string | Buffer, temp = `${path}.${process.pid}.tmp`): Promise<void> {
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await renameDurably(temp, path);
}

/** As `writeFileDurably`, for start-up and other synchronous paths. */
export function writeFileDurablySync(path: string, data: string | Buffer, temp = `${path}.${process.pid}.tmp`): void {
  const fd = openSync(temp, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  syncDirectorySync(dirname(path));
}

/** Renames a synced file into place and syncs the directory that now holds it. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDirectory(dirname(to));
}

/** Syncs a file already written (a temp file about to be renamed). */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function syncDirectorySync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
