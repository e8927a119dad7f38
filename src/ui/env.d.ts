/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Names the build; see src/ui/pwa/build-id.ts. */
  readonly VITE_FERRY_BUILD_ID?: string;
}
