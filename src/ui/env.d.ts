/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Names the build; see src/ui/pwa/build-id.ts. */
  readonly VITE_FERRY_BUILD_ID?: string;
  /** Test builds only: opens the database this many versions higher; see src/client/local-db.ts. */
  readonly VITE_FERRY_TEST_DB_VERSION_BUMP?: string;
}
