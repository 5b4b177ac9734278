import { defineConfig } from "vite";

// The app loads its UI from the bundle (tauri://), never from a CDN: the CSP allows 'self' only.
export default defineConfig({
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 600 },
  test: { environment: "happy-dom", include: ["src/**/*.test.ts"] },
});
