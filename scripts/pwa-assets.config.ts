// The app's icons, all made from one source: public/favicon.svg (the Ferry logo).
// Regenerate after changing the logo: `npm run icons` (writes the PNGs into public/).
import { defineConfig } from '@vite-pwa/assets-generator/config';

/** The logo's own blue: maskable and Apple icons are full squares, so they need a fill. */
const LOGO_BLUE = '#2459d6';

export default defineConfig({
  images: ['public/favicon.svg'],
  headLinkOptions: { preset: '2023' },
  preset: {
    // Any-purpose icons keep the logo's rounded square on transparency.
    transparent: { sizes: [192, 512], favicons: [[48, 'favicon.ico']] },
    // Maskable: the launcher crops to its own shape, keeping the centre 80% circle; the
    // padding keeps the ferry inside it and the blue fill hides the crop.
    maskable: { sizes: [512], padding: 0.2, resizeOptions: { background: LOGO_BLUE } },
    // iOS rounds the corners itself and shows transparency as black.
    apple: { sizes: [180], padding: 0.12, resizeOptions: { background: LOGO_BLUE } },
  },
});
