import { Component, type ErrorInfo, type ReactNode } from 'react';

/** A rendering bug shows its message and a way back, instead of a blank window. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error?: Error }> {
  override state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('Cairn: the window hit an error', error, info.componentStack);
  }

  override render(): ReactNode {
    if (!this.state.error) return this.props.children;
    return (
      <div className="error-note" role="alert" data-code="INTERNAL">
        <strong>Something went wrong in this window: {this.state.error.message}</strong>
        <p>
          Your backups are not affected.{' '}
          <button type="button" onClick={() => window.location.reload()}>
            Reload the window
          </button>
        </p>
      </div>
    );
  }
}
