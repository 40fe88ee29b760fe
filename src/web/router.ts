/** Two pages, addressed by path: `/` (overview) and `/s/<id>` (a session). History API, no reloads. */
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'overview' } | { page: 'session'; id: string };

export function parseRoute(path: string): Route {
  const m = /^\/s\/([^/]+)$/.exec(path);
  return m ? { page: 'session', id: decodeURIComponent(m[1]!) } : { page: 'overview' };
}

const listeners = new Set<() => void>();

export function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, '', path);
  for (const l of listeners) l();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute(location.pathname));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(location.pathname));
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** An <a> that navigates inside the app (a middle click still opens a tab). */
export function linkClick(path: string): (e: MouseEvent) => void {
  return (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(path);
  };
}

export const sessionHref = (id: string): string => `/s/${encodeURIComponent(id)}`;
