import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { AppState, AppStore } from './app-state.js';

export const AppStoreContext = createContext<AppStore | undefined>(undefined);

function useAppStore(): AppStore {
  const store = useContext(AppStoreContext);
  if (!store) throw new Error('AppStoreContext is missing');
  return store;
}

/** Select one value from the app store (a primitive, or an object that keeps its identity). */
export function useApp<T>(selector: (state: AppState) => T): T {
  return useStore(useAppStore(), selector);
}

/** Select several values at once, compared shallowly so a new object does not re-render. */
export function useAppShallow<T extends object>(selector: (state: AppState) => T): T {
  return useStore(useAppStore(), useShallow(selector));
}
