import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { defineConfig } from 'vitest/config';
import { compressAssets } from './scripts/compress-assets.ts';

export default defineConfig({
  plugins: [
    react(),
    // ---- PWA: installable, offline shell, update prompt (docs/pwa.md) ----
    VitePWA({
      // Our own worker (src/sw/sw.ts) with the precache manifest injected into it.
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      // A new version waits for the user (UpdatePrompt), never reloads under them.
      registerType: 'prompt',
      // Registration happens in the app (useRegisterSW); nothing is injected into
      // index.html, which the server's CSP would refuse as an inline script anyway.
      injectRegister: false,
      // The icons (public/, made by `npm run icons`) are precached by globPatterns below.
      includeManifestIcons: false,
      injectManifest: {
        // The app shell: everything a reload in airplane mode needs (the plugin adds the
        // manifest itself). Source maps stay out.
        globPatterns: ['**/*.{js,css,html,svg,png,ico}'],
      },
      manifest: {
        id: '/',
        name: 'Ferry',
        short_name: 'Ferry',
        description: 'Chat that keeps working when the network does not.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        theme_color: '#ffffff',
        background_color: '#f4f5f7',
        icons: [
          { src: 'pwa-192x192.png', sizes: '192x192', type: 'image/png' },
          { src: 'pwa-512x512.png', sizes: '512x512', type: 'image/png' },
          {
            src: 'maskable-icon-512x512.png',
            sizes: '512x512',
            type: 'image/png',
            purpose: 'maskable',
          },
        ],
      },
    }),
    // ---- .br and .gz beside each text file, sent by the server (docs/pwa.md) ----
    // Runs after vite-plugin-pwa has written sw.js (see compress-assets.ts).
    compressAssets(),
  ],
  server: {
    // `npm run dev` serves the UI with hot reload and forwards socket.io to `npm start`.
    proxy: { '/socket.io': { target: 'http://localhost:8080', ws: true } },
  },
  build: {
    outDir: 'dist',
    sourcemap: true,
    // No polyfill for <link rel="modulepreload">: a browser without it (Safari before 17)
    // still loads every module, only without the head start; and the entry no longer
    // watches the whole document with a MutationObserver at start.
    modulePreload: { polyfill: false },
  },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
