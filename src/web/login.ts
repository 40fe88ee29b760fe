/**
 * Signing in. The one-time token is in the URL's fragment (never sent to a server, never
 * in a Referer); it is removed from the address bar at once, traded for an HttpOnly
 * cookie by a same-origin POST, and the page moves to the dashboard.
 */
export function signIn(root: HTMLElement): void {
  root.innerHTML = '<main class="login"><h1>Ennio</h1><p role="status"></p></main>';
  const note = root.querySelector('p')!;
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  history.replaceState(null, '', '/login');
  if (!token) {
    note.textContent = 'Open the link that `ennio dashboard` prints to sign in.';
    return;
  }
  note.textContent = 'Signing in…';
  void fetch('/login', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) }).then(
    async (res) => {
      if (res.ok) return location.replace('/');
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; hint?: string } };
      note.textContent = `${body.error?.message ?? `sign-in failed (HTTP ${res.status})`}. ${body.error?.hint ?? ''}`;
    },
    (err: unknown) => (note.textContent = `sign-in failed: ${String(err)}`),
  );
}
