/**
 * Names the build (`VITE_FERRY_BUILD_ID` at build time, e.g. a commit), shown on the page's
 * root element as `data-build` so anyone, the update test included, can tell which version
 * a tab runs.
 */
export const BUILD_ID: string = import.meta.env.VITE_FERRY_BUILD_ID || 'local';
