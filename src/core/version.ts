declare const __ENNIO_VERSION__: string | undefined;

/** Injected by scripts/build.mjs; 'dev' when running from source (tsx/vitest). */
export const VERSION: string = typeof __ENNIO_VERSION__ === 'string' ? __ENNIO_VERSION__ : 'dev';

declare const __ENNIO_BUILD__: string | undefined;

/** A hash of the sources the bundle was built from: a client and an orchestrator of different builds never talk. */
export const BUILD: string = typeof __ENNIO_BUILD__ === 'string' ? __ENNIO_BUILD__ : 'dev';
