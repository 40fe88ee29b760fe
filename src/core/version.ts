declare const __ENNIO_VERSION__: string | undefined;

/** Injected by scripts/build.mjs; 'dev' when running from source (tsx/vitest). */
export const VERSION: string = typeof __ENNIO_VERSION__ === 'string' ? __ENNIO_VERSION__ : 'dev';
