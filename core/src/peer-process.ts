import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';

/** Where the peer of a Unix socket can be found: Linux, through `ss` (iproute2), which asks the kernel (sock_diag). */
export const PEER_LOOKUP_SUPPORTED = process.platform === 'linux';

/**
 * The processes holding the other end of a Unix socket connection; empty
 * where the platform cannot tell. Throws when it should be able to and
 * cannot (no `ss`, or the client is already gone): the caller refuses.
 */
export async function peerPids(socket: net.Socket): Promise<number[]> {
  if (!PEER_LOOKUP_SUPPORTED) return [];
  const inode = socketInode(socket);
  const listing = await new Promise<string>((resolve, reject) => {
    execFile('ss', ['-xpnH'], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 5000 }, (error, stdout) => (error ? reject(new Error(`ss failed: ${error.message}`)) : resolve(stdout)));
  });
  // `u_str ESTAB 0 0 * 134043 * 134044 users:(("python3",pid=975,fd=3))`: the client's line names our inode as its peer.
  for (const line of listing.split('\n')) {
    const match = /\s(\d+)\s+users:\((.*)\)\s*$/.exec(line);
    if (match?.[1] !== inode) continue;
    const pids = [...match[2]!.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    if (pids.length > 0) return pids;
  }
  throw new Error('the client end of the connection is gone');
}

function socketInode(socket: net.Socket): string {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) throw new Error('the connection is closed');
  const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
  if (!match) throw new Error(`fd ${fd} is not a socket`);
  return match[1]!;
}
