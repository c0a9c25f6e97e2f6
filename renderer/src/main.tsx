import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from './api/client.js';
import { pickTransport } from './api/pick-transport.js';
import { App } from './components/App.js';
import { ErrorBoundary } from './components/ErrorBoundary.js';
import { connectEvents, createAppStore } from './state/app-store.js';
import { AppStoreContext } from './state/use-app.js';

const root = document.getElementById('root')!;
try {
  const store = createAppStore(createClient(pickTransport()));
  connectEvents(store);
  void store.getState().init();
  createRoot(root).render(
    <StrictMode>
      <ErrorBoundary>
        <AppStoreContext.Provider value={store}>
          <App />
        </AppStoreContext.Provider>
      </ErrorBoundary>
    </StrictMode>,
  );
} catch (err) {
  root.textContent = err instanceof Error ? err.message : String(err);
}
