import type { Configuration } from 'electron-builder';

/**
 * Packaging for Linux (AppImage, deb), Windows (NSIS) and macOS (dmg). Run `npm run package` on a machine that
 * can download Electron and electron-builder's tools (see build/README.md); it cannot run in this project's CI.
 */
const config: Configuration = {
  appId: 'org.cairn-backup.cairn',
  productName: 'Cairn',
  copyright: 'Copyright © 2026 the Cairn authors',
  directories: { output: 'release', buildResources: 'build' },
  // The compiled app only: main, preload, host, core, the built renderer and the tray icons (main loads them
  // from the asar). React and friends are bundled into the renderer by Vite, so their packages are left out.
  files: [
    'package.json',
    'dist/core/**/*.js',
    'dist/contract/**/*.js',
    'dist/host/**/*.js',
    'dist/web/**/*.js',
    'dist/electron/**/*.{js,cjs}',
    'dist/renderer/**',
    'electron/assets/*.png',
    '!node_modules/{react,react-dom,zustand,scheduler,@tanstack}/**',
  ],
  asar: true,
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Utility',
    icon: 'build/icon.png',
    synopsis: 'Deduplicating backups in the Proxmox Backup Server format',
    maintainer: 'The Cairn authors <cairn@example.org>',
  },
  deb: { depends: ['libnotify4', 'libxtst6', 'libnss3'] },
  win: { target: ['nsis'], icon: 'build/icon.png' },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  mac: { target: ['dmg'], category: 'public.app-category.utilities', hardenedRuntime: true, icon: 'build/icon.png' },
};

export default config;
