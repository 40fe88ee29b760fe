/**
 * An application-level "are you there?" on an SSH connection, answered by sshd itself
 * (not by a command), so it works while every channel is busy.
 *
 * ssh2 has no public ping: its own keepalive notices a dead link only after
 * keepalive_interval × 3, and a TCP connection that lived through a cut may stay silent
 * long after the link is back (retransmissions back off: 51 s, then 102 s…). We send a
 * `cancel-tcpip-forward` global request for a forward that never existed (127.0.0.1:0;
 * ennio never forwards in): it wants a reply, sshd answers "failure" at once, and it
 * changes nothing on either side. Any reply, success or failure, means the link works.
 */
import type { Client } from 'ssh2';

/** Send one probe; `answered` runs when the server replies. Returns false if it could not be sent. */
export function sendProbe(client: Client, answered: () => void): boolean {
  try {
    client.unforwardIn('127.0.0.1', 0, () => answered());
    return true;
  } catch {
    // ssh2 throws synchronously when the socket is already gone: the close event reports that.
    return false;
  }
}
