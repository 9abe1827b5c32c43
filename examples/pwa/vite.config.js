// vite-plugin-pwa with Workbox: the service worker precaches every file of the build (Vite emits the
// package's default wasm core, models and worker script into dist/assets/ under hashed names, so
// the build's own list is the right one here; 'minirank/precache' is for apps that serve the
// package's folder as it is). The ONNX core is left out: the default models do not need it.
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

export default defineConfig({
  plugins: [
    VitePWA({
      registerType: 'autoUpdate',
      manifest: {
        name: 'minirank offline',
        short_name: 'minirank',
        start_url: '/',
        display: 'standalone',
        theme_color: '#1f3a5f',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{html,js,css,wasm,tar,json}'],
        globIgnores: ['**/*onnx*'],
        // the models are 23 MB each (Workbox's default limit is 2 MiB)
        maximumFileSizeToCacheInBytes: 30 * 1024 * 1024,
      },
    }),
  ],
});
